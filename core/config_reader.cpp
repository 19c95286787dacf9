#include "core/config_reader.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/suggest.h"

namespace tttlm {

namespace {
std::string type_name(const nlohmann::json& v) {
  std::string dump = v.dump();
  if (dump.size() > 40) dump = dump.substr(0, 37) + "...";
  return std::string(v.type_name()) + " " + dump;
}
}  // namespace

ConfigReader::ConfigReader(const nlohmann::json& object, std::string path, std::string file)
    : object_(object.is_null() ? nlohmann::json::object() : object), path_(std::move(path)), file_(std::move(file)) {
  TTT_CHECK(object_.is_object(), "[config] ", file_, ": ", path_.empty() ? "the top level" : path_,
            " must be a JSON object, got ", type_name(object_));
}

void ConfigReader::fail(const char* key, const std::string& what) const {
  throw InvalidArgument("[config] " + file_ + ": " + key_path(key) + ": " + what);
}

const nlohmann::json* ConfigReader::get(const char* key) {
  known_.insert(key);
  auto it = object_.find(key);
  return it == object_.end() ? nullptr : &*it;
}

bool ConfigReader::has(const char* key) const { return object_.contains(key); }
void ConfigReader::allow(const char* key) { known_.insert(key); }

void ConfigReader::read(const char* key, int64_t& out) {
  if (auto* v = get(key)) {
    // Casting a double outside [-2^63, 2^63) to int64 is undefined behaviour; an unsigned JSON number above
    // INT64_MAX would wrap to a negative one. Both are refused as out of range.
    constexpr double kTwo63 = 9223372036854775808.0;
    if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      fail(key, "expected an integer in int64's range, got " + type_name(*v));
    } else if (v->is_number_integer()) {
      out = v->get<int64_t>();
    } else if (v->is_number_float() && v->get<double>() >= -kTwo63 && v->get<double>() < kTwo63 &&
               v->get<double>() == std::trunc(v->get<double>())) {
      out = static_cast<int64_t>(v->get<double>());
    } else if (v->is_number_float() && v->get<double>() == std::trunc(v->get<double>())) {
      fail(key, "expected an integer in int64's range, got " + type_name(*v));
    } else {
      fail(key, "expected an integer, got " + type_name(*v));
    }
  }
}

void ConfigReader::read(const char* key, int& out) {
  int64_t v = out;
  read(key, v);
  if (v < INT32_MIN || v > INT32_MAX) fail(key, "expected an integer in int32's range, got " + std::to_string(v));
  out = static_cast<int>(v);
}

void ConfigReader::read(const char* key, double& out) {
  if (auto* v = get(key)) {
    if (!v->is_number()) fail(key, "expected a number, got " + type_name(*v));
    out = v->get<double>();
  }
}

void ConfigReader::read(const char* key, bool& out) {
  if (auto* v = get(key)) {
    if (!v->is_boolean()) fail(key, "expected true or false, got " + type_name(*v));
    out = v->get<bool>();
  }
}

void ConfigReader::read(const char* key, std::string& out) {
  if (auto* v = get(key)) {
    if (!v->is_string()) fail(key, "expected a string, got " + type_name(*v));
    out = v->get<std::string>();
  }
}

void ConfigReader::read(const char* key, std::vector<int64_t>& out) {
  if (auto* v = get(key)) {
    if (!v->is_array()) fail(key, "expected a list of integers, got " + type_name(*v));
    std::vector<int64_t> r;
    for (const auto& e : *v) {
      if (!e.is_number_integer() || (e.is_number_unsigned() && e.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)))
        fail(key, "expected a list of integers below 2^63, got an element " + type_name(e));
      r.push_back(e.get<int64_t>());
    }
    out = r;
  }
}

void ConfigReader::read(const char* key, std::vector<std::string>& out) {
  if (auto* v = get(key)) {
    if (!v->is_array()) fail(key, "expected a list of strings, got " + type_name(*v));
    std::vector<std::string> r;
    for (const auto& e : *v) {
      if (!e.is_string()) fail(key, "expected a list of strings, got an element " + type_name(e));
      r.push_back(e.get<std::string>());
    }
    out = r;
  }
}

ConfigReader ConfigReader::section(const char* key) {
  const nlohmann::json* v = get(key);
  if (v && !v->is_object()) fail(key, "expected an object, got " + type_name(*v));
  return ConfigReader(v ? *v : nlohmann::json::object(), key_path(key), file_);
}

void ConfigReader::finish() const {
  std::vector<std::string> known(known_.begin(), known_.end());
  for (auto it = object_.begin(); it != object_.end(); ++it) {
    if (known_.count(it.key())) continue;
    std::string near = suggest_nearest(it.key(), known);
    throw InvalidArgument("[config] " + file_ + ": unknown key " + key_path(it.key().c_str()) +
                          (near.empty() ? "" : "; did you mean " + key_path(near.c_str()) + "?"));
  }
}

}  // namespace tttlm
