// Strict reading of JSON config sections into typed fields. Each field is read once with its type; a key
// that no field consumed is an error naming the file, the key path and, for a likely typo, the nearest
// known key (core/suggest.h); a value of the wrong type names the file, the key, the expected type and the
// value found. Parsing happens once at the boundary (configs, checkpoints' state.json); nothing downstream
// sees JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/suggest.h"

namespace tttlm {

class ConfigReader {
 public:
  // `path` is the key path of this object ("" for the root, "model" for a section); `file` is for messages.
  ConfigReader(const nlohmann::json& object, std::string path, std::string file);

  // Each read leaves `out` unchanged when the key is absent (its default) and records the key as known.
  void read(const char* key, int64_t& out);
  void read(const char* key, int& out);
  void read(const char* key, double& out);
  void read(const char* key, bool& out);
  void read(const char* key, std::string& out);
  void read(const char* key, std::vector<int64_t>& out);
  void read(const char* key, std::vector<std::string>& out);
  // Reads a string and maps it through `names` (value i means enum value i); errors list the accepted names.
  template <class E>
  void read_enum(const char* key, E& out, const std::vector<std::string>& names);
  bool has(const char* key) const;
  // Marks a key as known without reading it (a key handled elsewhere, such as "include").
  void allow(const char* key);
  // A nested object; absent gives an empty object. The child must be finish()ed by the caller.
  ConfigReader section(const char* key);

  // Throws InvalidArgument for every unknown key (the first one, with the nearest known key suggested).
  void finish() const;

  std::string key_path(const char* key) const { return path_.empty() ? key : path_ + "." + key; }
  const std::string& file() const { return file_; }

  // "[config] FILE: KEY: expected ..., got ..." as InvalidArgument.
  [[noreturn]] void fail(const char* key, const std::string& what) const;

 private:
  const nlohmann::json* get(const char* key);
  nlohmann::json object_;
  std::string path_, file_;
  std::set<std::string> known_;
};

template <class E>
void ConfigReader::read_enum(const char* key, E& out, const std::vector<std::string>& names) {
  std::string s;
  bool present = has(key);
  read(key, s);
  if (!present) return;
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == s) {
      out = static_cast<E>(i);
      return;
    }
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  std::string near = suggest_nearest(s, names);
  fail(key,
       "expected one of " + list + ", got \"" + s + "\"" + (near.empty() ? "" : " (did you mean \"" + near + "\"?)"));
}

}  // namespace tttlm
