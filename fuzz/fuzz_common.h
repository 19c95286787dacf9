// Shared by the harnesses: a private temporary directory for readers that take a path, and the rule for
// exceptions. A tttlm::Error (InvalidArgument, RuntimeError) is the reader refusing bad input with a message:
// expected. Anything else escaping (a raw nlohmann::json error, std::out_of_range, std::bad_alloc) reaches
// libFuzzer uncaught, which aborts and saves the input as a crash, as do ASan and UBSan reports.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace tttlm::fuzz {

// One directory per process (libFuzzer's -jobs/-workers run several), removed at a normal exit;
// under $TMPDIR when set.
class TempDir {
 public:
  TempDir() {
    // Memory-backed /dev/shm when there is one: a file per input on a disk is the harness's bottleneck.
    const char* base = std::getenv("TMPDIR");
    const bool shm = ::access("/dev/shm", W_OK) == 0;
    path_ = std::string(base ? base : shm ? "/dev/shm" : "/tmp") + "/tttlm-fuzz-XXXXXX";
    if (::mkdtemp(path_.data()) == nullptr) throw std::runtime_error("fuzz: mkdtemp failed for " + path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline const std::string& temp_dir() {
  static const TempDir dir;
  return dir.path();
}

// Writes `bytes` to temp_dir()/name and returns the path.
inline std::string write_temp(const std::string& name, std::string_view bytes) {
  std::string path = temp_dir() + "/" + name;
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  f.close();
  if (!f) throw std::runtime_error("fuzz: cannot write " + path);
  return path;
}

// Runs `body`; a tttlm::Error is the expected refusal of bad input, anything else propagates.
template <class F>
void expect_clean_errors(F&& body) {
  try {
    body();
  } catch (const tttlm::Error&) {
  }
}

// Splits `text` at each occurrence of `sep` (the harnesses pack several files into one input).
inline std::vector<std::string> split(std::string_view text, std::string_view sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t at = text.find(sep, start);
    if (at == std::string_view::npos) {
      parts.emplace_back(text.substr(start));
      return parts;
    }
    parts.emplace_back(text.substr(start, at - start));
    start = at + sep.size();
  }
}

}  // namespace tttlm::fuzz
