#include "train/peak_flops.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace tttlm::train {

namespace {

std::string host_name() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

nlohmann::json read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return nlohmann::json::object();
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  return j.is_object() ? j : nlohmann::json::object();
}

}  // namespace

std::string peak_file_path() {
  if (const char* p = std::getenv("TTTLM_PEAK_FILE"); p && *p) return p;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/tttlm/peak_gflops.json";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.cache/tttlm/peak_gflops.json";
}

Peak matmul_peak(double configured_gflops, Device device, const std::string& precision) {
  if (configured_gflops > 0) return {configured_gflops, "log.peak_gflops"};
  const std::string path = peak_file_path();
  nlohmann::json j = read_file(path);
  const char* kind = device.is_cpu() ? "cpu" : "cuda";
  if (j.value("host", std::string()) == host_name() && j.contains(kind) && j[kind].is_object() &&
      j[kind].contains(precision) && j[kind][precision].is_number() && j[kind][precision].get<double>() > 0)
    return {j[kind][precision].get<double>(), path};
  return {0, "none"};
}

std::string write_matmul_peak(Device device, const std::string& precision, double gflops) {
  const std::string path = peak_file_path();
  nlohmann::json j = read_file(path);
  if (j.value("host", std::string()) != host_name()) j = nlohmann::json::object();
  j["host"] = host_name();
  j[device.is_cpu() ? "cpu" : "cuda"][precision] = gflops;
  std::filesystem::path p(path);
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    TTT_CHECK_RT(static_cast<bool>(out), "[peak] cannot write ", tmp);
    out << j.dump(2) << "\n";
  }
  std::filesystem::rename(tmp, path);
  return path;
}

}  // namespace tttlm::train
