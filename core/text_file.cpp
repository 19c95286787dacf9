#include "core/text_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/error.h"

namespace tttlm {

namespace fs = std::filesystem;

std::string read_text_file(const std::string& path, const std::string& tag) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  // A path the OS refuses outright (a name over NAME_MAX, a component that is a file) is not "missing".
  TTT_CHECK(!ec || ec == std::errc::no_such_file_or_directory, tag, " ", path, ": ", ec.message());
  TTT_CHECK(fs::exists(st), tag, " ", path, ": no such file");
  TTT_CHECK(!fs::is_directory(st), tag, " ", path, ": is a directory, expected a file");
  TTT_CHECK(fs::is_regular_file(st), tag, " ", path, ": is not a regular file");
  std::FILE* f = std::fopen(path.c_str(), "rb");
  TTT_CHECK(f, tag, " cannot open ", path, ": ", std::strerror(errno));
  std::string text;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  const bool failed = std::ferror(f);
  const int err = errno;
  std::fclose(f);
  TTT_CHECK(!failed, tag, " error reading ", path, ": ", std::strerror(err));
  return text;
}

nlohmann::json read_json_file(const std::string& path, const std::string& tag, bool comments) {
  const std::string text = read_text_file(path, tag);
  try {
    return nlohmann::json::parse(text, nullptr, true, comments);
  } catch (const nlohmann::json::parse_error& e) {
    throw InvalidArgument(tag + " " + path + ": invalid JSON at byte " + std::to_string(e.byte) + ": " + e.what());
  } catch (const nlohmann::json::exception& e) {  // out_of_range 406: a number beyond double's range (1e999)
    throw InvalidArgument(tag + " " + path + ": invalid JSON: " + e.what());
  }
}

}  // namespace tttlm
