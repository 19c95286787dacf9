// TTT_DISPATCH (kernels/dispatch.h) and the CUDA stubs that TTT_KERNEL (kernels/declare.h) generates for a
// build without CUDA.
#include <catch2/catch.hpp>
#include <vector>

#include "core/cuda_runtime.h"
#include "core/device.h"
#include "kernels/dispatch.h"
#include "kernels/elementwise.h"
#include "kernels/gemm.h"
#include "kernels/norm.h"

using namespace tttlm;

TEST_CASE("TTT_DISPATCH runs the CPU kernel for the CPU and evaluates its arguments once", "[ops][dispatch]") {
  std::vector<float> x = {1.f, 2.f, 3.f}, y = {10.f, 20.f, 30.f};
  int evaluated = 0;
  auto alpha = [&] {
    ++evaluated;
    return 2.0;
  };
  TTT_DISPATCH(cpu_device(), axpy, Dtype::f32, x.data(), y.data(), 3, alpha());
  CHECK(evaluated == 1);
  CHECK(y == std::vector<float>{12.f, 24.f, 36.f});
}

TEST_CASE("a CUDA kernel in a build without CUDA throws naming the kernel", "[ops][dispatch]") {
  if (cuda_build_enabled()) {
    WARN("this build has CUDA: the stubs exist only in a TTTLM_CUDA=OFF build");
    return;
  }
  const char* tail = "] has no CUDA implementation in this build (built without CUDA)";
  std::vector<float> x = {1.f}, y = {2.f};
  CHECK_THROWS_WITH(TTT_DISPATCH(cuda_device(), axpy, Dtype::f32, x.data(), y.data(), 1, 1.0),
                    std::string("[axpy") + tail);
  CHECK_THROWS_AS(kernels::cuda::gemm(Dtype::f32, kernels::GemmArgs{}), RuntimeError);
  CHECK_THROWS_WITH(kernels::cuda::gemm(Dtype::f32, kernels::GemmArgs{}), std::string("[gemm") + tail);
  CHECK_THROWS_WITH(kernels::cuda::rms_norm_forward(Dtype::f32, nullptr, nullptr, nullptr, nullptr, 0, 0, 1e-5),
                    std::string("[rms_norm_forward") + tail);
  CHECK(y[0] == 2.f);  // nothing ran
}
