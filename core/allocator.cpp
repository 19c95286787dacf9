#include "core/allocator.h"

#include <cstdlib>

#include "core/error.h"

namespace tttlm {

void* cpu_alloc(size_t nbytes) {
  if (nbytes == 0) nbytes = 64;
  size_t rounded = (nbytes + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded);
  TTT_CHECK_RT(p != nullptr, "[cpu_alloc] out of memory: asked for ", nbytes, " bytes");
  return p;
}

void cpu_free(void* p) { std::free(p); }

}  // namespace tttlm
