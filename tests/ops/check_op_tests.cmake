# Fails unless every op that autograd/ops/*.h declares has a "<op> forward ...", a "<op> backward ..." and
# a "<op> gradcheck ..." test case in the ops suite. The op list is read from the headers (every
# `Tensor name(` / `std::vector<Tensor> name(` declaration), so a new op is checked without editing this
# file; the only hand-kept list is the exemptions below, each with its reason.
set(exempt
  activation                   # dispatches to the named activations (gelu, silu, ...), each tested
  causal_attention_reference   # the test oracles that the fused ops are compared against
  cross_entropy_reference
  ttt_primal                   # the primal form: the reference of the ttt tests (tests/ops/test_ttt.cpp)
  selective_scan_step          # decoding steps (no gradient): tests/layers/test_decoding.cpp checks each
  ttt_decode_step              #   against the full forward
  random_normal                # initialisation draws, no gradient (tests/ops/test_random.cpp)
  random_trunc_normal
  random_uniform
  neg                          # affine(x, -1, 0)
  split                        # narrow per part ("split returns views that concat back")
  sum_to                       # the reduction of broadcast gradients ("sum_to inverts broadcasting")
  to                           # a device copy: the CUDA parity suite covers it
  gemm_raw)                    # detail:: GEMM without autograd under matmul and linear_bf16, tested through them
file(GLOB headers ${SRC}/autograd/ops/*.h)
set(ops "")
foreach(h ${headers})
  file(STRINGS ${h} lines REGEX "^(Tensor|std::vector<Tensor>) [a-z_0-9]+\\(")
  foreach(line ${lines})
    string(REGEX REPLACE "^(Tensor|std::vector<Tensor>) ([a-z_0-9]+)\\(.*" "\\2" op "${line}")
    list(APPEND ops ${op})
  endforeach()
endforeach()
list(REMOVE_DUPLICATES ops)
list(LENGTH ops n_declared)
if(n_declared LESS 40)
  message(FATAL_ERROR "found only ${n_declared} op declarations in ${SRC}/autograd/ops/*.h: has the header style changed?")
endif()
foreach(op ${exempt})
  list(FIND ops ${op} at)
  if(at EQUAL -1)
    message(FATAL_ERROR "exempted op '${op}' is no longer declared in autograd/ops: remove it from the exemptions")
  endif()
  list(REMOVE_ITEM ops ${op})
endforeach()
# Catch2 2.x exits with the number of tests listed, so judge by the output.
execute_process(COMMAND ${EXE} --list-test-names-only OUTPUT_VARIABLE names RESULT_VARIABLE rc)
if(NOT names)
  message(FATAL_ERROR "${EXE} --list-test-names-only listed nothing (exit ${rc})")
endif()
string(REPLACE "\n" ";" names "${names}")
set(missing "")
foreach(op ${ops})
  foreach(kind forward backward gradcheck)
    set(found OFF)
    foreach(n ${names})
      string(STRIP "${n}" n)
      string(FIND "${n}" "${op} ${kind}" pos)
      if(pos EQUAL 0)
        set(found ON)
        break()
      endif()
    endforeach()
    if(NOT found)
      list(APPEND missing "${op} ${kind}")
    endif()
  endforeach()
endforeach()
if(missing)
  string(REPLACE ";" "\n  " msg "${missing}")
  message(FATAL_ERROR "ops declared in autograd/ops without their test case:\n  ${msg}")
endif()
list(LENGTH ops n)
message(STATUS "all ${n} differentiable ops declared in autograd/ops have forward, backward and gradcheck tests")
