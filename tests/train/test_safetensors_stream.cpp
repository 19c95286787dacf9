// The safetensors writer streams: the bytes match a file assembled independently here (header JSON
// written out by hand, data from memcpy of known values), and writing a large tensor does not raise the
// process's peak resident memory by anything near the tensor's size.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "train/safetensors.h"

using namespace tttlm;
using namespace tttlm::train;
namespace fs = std::filesystem;

namespace {

std::string read_all(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

template <class T>
std::string raw(const std::vector<T>& v) {
  std::string out(v.size() * sizeof(T), '\0');
  if (!v.empty()) std::memcpy(out.data(), v.data(), out.size());
  return out;
}

// Peak resident memory (VmHWM) in KiB from /proc/self/status; -1 where it cannot be read.
long peak_rss_kib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

// Resets the peak to the current resident size (Linux: "5" to /proc/self/clear_refs).
bool reset_peak_rss() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
  f.flush();
  return f.good();
}

}  // namespace

TEST_CASE("safetensors writer output is byte-identical to the format assembled by hand", "[train][safetensors]") {
  const fs::path p = fs::temp_directory_path() / ("tttlm_st_stream_" + std::to_string(::getpid()) + ".safetensors");
  const std::vector<float> a = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, -0.125f};
  const std::vector<int64_t> b = {5, -6, 1LL << 40};
  const std::vector<int32_t> c = {};  // an empty tensor: offsets [x, x], no bytes
  const std::vector<double> d = {3.0, -1e300};
  std::map<std::string, Tensor> t = {{"a", Tensor::from_vector(a, {2, 3})},
                                     {"b", Tensor::from_vector(b, {3})},
                                     {"c", Tensor::from_vector(c, {0, 4})},
                                     {"d", Tensor::from_vector(d, {2, 1})}};
  save_safetensors(p.string(), t, {{"step", "12"}});

  // Offsets: a 24 bytes, b 24, c 0, d 16; keys in name order, entry fields in alphabetical order.
  std::string header = R"({"__metadata__":{"step":"12"},)"
                       R"("a":{"data_offsets":[0,24],"dtype":"F32","shape":[2,3]},)"
                       R"("b":{"data_offsets":[24,48],"dtype":"I64","shape":[3]},)"
                       R"("c":{"data_offsets":[48,48],"dtype":"I32","shape":[0,4]},)"
                       R"("d":{"data_offsets":[48,64],"dtype":"F64","shape":[2,1]}})";
  while (header.size() % 8) header += ' ';
  const uint64_t hlen = header.size();
  std::string expected(reinterpret_cast<const char*>(&hlen), 8);
  expected += header + raw(a) + raw(b) + raw(d);

  const std::string got = read_all(p);
  REQUIRE(got.size() == expected.size());
  REQUIRE(got.substr(8, hlen) == header);
  REQUIRE(got == expected);
  // No temporary file is left next to it.
  for (const auto& e : fs::directory_iterator(p.parent_path()))
    REQUIRE(e.path().filename().string().rfind(p.filename().string() + ".tmp.", 0) != 0);
  fs::remove(p);
}

TEST_CASE("safetensors writer does not hold the file in memory", "[train][safetensors]") {
  const fs::path p = fs::temp_directory_path() / ("tttlm_st_big_" + std::to_string(::getpid()) + ".safetensors");
  constexpr int64_t n = 64LL << 20;  // 64 Mi floats = 256 MiB
  Tensor big = Tensor::empty({n}, Dtype::f32);
  float* x = big.data<float>();
  for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>(i % 1021);  // touch every page
  if (!reset_peak_rss() || peak_rss_kib() < 0) {
    WARN("cannot reset or read the peak resident size (/proc/self/clear_refs, VmHWM): skipped");
    return;
  }
  const long before = peak_rss_kib();
  save_safetensors(p.string(), {{"big", big}, {"small", Tensor::full({4}, 2.0, Dtype::f32)}});
  const long growth_kib = peak_rss_kib() - before;
  INFO("peak resident memory grew by " << growth_kib / 1024 << " MiB while writing a 256 MiB tensor");
  REQUIRE(growth_kib < 32 * 1024);  // the old writer assembled the whole file: +256 MiB
  REQUIRE(fs::file_size(p) > static_cast<uintmax_t>(n * 4));
  // The data reads back: spot-check a few values.
  SafetensorsFile r = load_safetensors(p.string());
  const float* y = r.tensors.at("big").data<float>();
  for (int64_t i : {int64_t{0}, int64_t{1020}, int64_t{1021}, n - 1}) REQUIRE(y[i] == static_cast<float>(i % 1021));
  REQUIRE(r.tensors.at("small").to_vector<float>() == std::vector<float>{2, 2, 2, 2});
  fs::remove(p);
}
