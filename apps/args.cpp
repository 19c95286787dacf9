#include "apps/args.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/error.h"

namespace tttlm::apps {

Args::Args(const std::string& command, int argc, char** argv, int first, std::set<std::string> flags,
           std::set<std::string> options)
    : command_(command) {
  for (int i = first; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) == 0) {
      std::string name = a.substr(2), value;
      bool inline_value = false;
      if (auto eq = name.find('='); eq != std::string::npos && name.rfind("set", 0) != 0) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        inline_value = true;
      }
      if (flags.count(name)) {
        flags_set_.insert(name);
      } else if (options.count(name)) {
        if (!inline_value) {
          TTT_CHECK(i + 1 < argc, "[", command, "] --", name, " needs a value");
          value = argv[++i];
        }
        values_.emplace(name, value);
      } else {
        std::string known;
        for (const auto& f : flags) known += " --" + f;
        for (const auto& o : options) known += " --" + o + " V";
        throw InvalidArgument("[" + command + "] unknown option " + a + "; accepted:" + known);
      }
    } else {
      positional_.push_back(a);
    }
  }
}

std::string Args::positional(size_t i, const char* what) const {
  TTT_CHECK(i < positional_.size(), "[", command_, "] missing argument ", what, " (see tttlm help)");
  return positional_[i];
}

std::string Args::get(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

std::vector<std::string> Args::all(const std::string& name) const {
  std::vector<std::string> out;
  auto [b, e] = values_.equal_range(name);
  for (auto it = b; it != e; ++it) out.push_back(it->second);
  return out;
}

namespace {
[[noreturn]] void bad_value(const std::string& command, const std::string& name, const std::string& expected,
                            const std::string& value) {
  throw InvalidArgument("[" + command + "] --" + name + ": expected " + expected + "; found \"" + value + "\"");
}
}  // namespace

int64_t Args::get_int(const std::string& name, int64_t fallback, int64_t min, int64_t max) const {
  if (!has(name)) return fallback;
  const std::string v = get(name);
  std::string expected = "an integer >= " + std::to_string(min);
  if (max != INT64_MAX) expected = "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
  int64_t out = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || out < min || out > max)
    bad_value(command_, name, expected, v);
  return out;
}

uint64_t Args::get_u64(const std::string& name, uint64_t fallback) const {
  if (!has(name)) return fallback;
  const std::string v = get(name);
  uint64_t out = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size())
    bad_value(command_, name, "an integer in [0, 18446744073709551615]", v);
  return out;
}

double Args::get_double(const std::string& name, double fallback, double min, double max, bool max_exclusive) const {
  if (!has(name)) return fallback;
  const std::string v = get(name);
  char buf[64];
  std::snprintf(buf, sizeof buf, "a finite number in [%g, %g%s", min, max, max_exclusive ? ")" : "]");
  char* end = nullptr;
  const double out = v.empty() ? 0.0 : std::strtod(v.c_str(), &end);
  if (v.empty() || end != v.c_str() + v.size() || !std::isfinite(out) || out < min || out > max ||
      (max_exclusive && out == max))
    bad_value(command_, name, buf, v);
  return out;
}

std::string Args::get_choice(const std::string& name, const std::string& fallback,
                             const std::vector<std::string>& choices) const {
  if (!has(name)) return fallback;
  const std::string v = get(name);
  std::string list;
  for (const auto& c : choices) {
    if (v == c) return v;
    list += (list.empty() ? "" : ", ") + c;
  }
  bad_value(command_, name, "one of " + list, v);
}

}  // namespace tttlm::apps
