# Fails unless every differentiable op has a "<op> forward ...", a "<op> backward ..." and a
# "<op> gradcheck ..." test case in the ops suite. Add a new op's name here when you add the op.
set(ops
  add sub mul div affine sum mean max matmul linear linear_bf16
  reshape transpose permute narrow expand unsqueeze squeeze select contiguous clone cast concat pad_dim
  exp log sigmoid silu gelu softplus tanh square relu
  rms_norm layer_norm softmax log_softmax cross_entropy
  causal_conv1d rope embedding cumsum tril masked_fill_upper
  causal_attention selective_scan ttt_linear ttt_mlp)
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
  message(FATAL_ERROR "differentiable ops without their test case:\n  ${msg}")
endif()
list(LENGTH ops n)
message(STATUS "all ${n} differentiable ops have forward, backward and gradcheck tests")
