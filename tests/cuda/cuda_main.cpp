// Entry point of the CUDA parity suite: skips (exit 77) unless a CUDA device is usable.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <cstdio>

#include "core/cuda_runtime.h"

int main(int argc, char* argv[]) {
  if (!tttlm::cuda_build_enabled()) {
    std::printf("SKIPPED: this build of tttlm has no CUDA backend; the CUDA parity suite did not run.\n");
    return 77;
  }
  // Skipped only when there is no device; a runtime that fails to start fails the suite with its message.
  try {
    if (!tttlm::cuda_is_available()) {
      std::printf("SKIPPED: no CUDA device is visible; the CUDA parity suite did not run.\n");
      return 77;
    }
  } catch (const std::exception& e) {
    std::printf("FAILED: %s\n", e.what());
    return 1;
  }
  std::printf("CUDA device: %s\n", tttlm::cuda_device_description(0).c_str());
  return Catch::Session().run(argc, argv);
}
