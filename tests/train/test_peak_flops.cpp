// The MFU peak (train/peak_flops.h): log.peak_gflops wins; otherwise the measured entry for this host,
// device kind and precision; another host's file or a missing entry gives no peak (MFU not reported).
#include <catch2/catch.hpp>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "train/peak_flops.h"

using namespace tttlm;
using namespace tttlm::train;
namespace fs = std::filesystem;

TEST_CASE("MFU peak: config, then the measured file of this host for the device and precision", "[train][peak]") {
  const fs::path file = fs::temp_directory_path() / ("tttlm_peak_" + std::to_string(::getpid()) + ".json");
  fs::remove(file);
  ::setenv("TTTLM_PEAK_FILE", file.c_str(), 1);
  CHECK(matmul_peak(0, cpu_device(), "bf16").gflops == 0);  // no file: unknown
  CHECK(matmul_peak(0, cpu_device(), "bf16").source == "none");
  REQUIRE(write_matmul_peak(cpu_device(), "fp32", 120.0) == file.string());
  write_matmul_peak(cpu_device(), "bf16", 250.0);
  CHECK(matmul_peak(0, cpu_device(), "fp32").gflops == 120.0);
  CHECK(matmul_peak(0, cpu_device(), "bf16").gflops == 250.0);
  CHECK(matmul_peak(0, cpu_device(), "bf16").source == file.string());
  CHECK(matmul_peak(0, cuda_device(0), "bf16").gflops == 0);  // measured on the CPU only
  CHECK(matmul_peak(900.0, cpu_device(), "bf16").gflops == 900.0);
  CHECK(matmul_peak(900.0, cpu_device(), "bf16").source == "log.peak_gflops");
  // Another host's measurements do not apply here.
  std::ofstream(file) << R"({"host": "some-other-machine", "cpu": {"fp32": 120, "bf16": 250}})";
  CHECK(matmul_peak(0, cpu_device(), "bf16").gflops == 0);
  fs::remove(file);
  ::unsetenv("TTTLM_PEAK_FILE");
}
