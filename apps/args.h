// A small argument parser for the tttlm subcommands: positional arguments, --flag, --key value and
// repeated --set a.b=v. Unknown options are errors that list the accepted ones.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace tttlm::apps {

class Args {
 public:
  // `flags`: options without a value; `options`: options taking one value; "set" may repeat.
  Args(const std::string& command, int argc, char** argv, int first, std::set<std::string> flags,
       std::set<std::string> options);
  const std::vector<std::string>& positional() const { return positional_; }
  std::string positional(size_t i, const char* what) const;  // throws naming `what` when missing
  bool flag(const std::string& name) const { return flags_set_.count(name) > 0; }
  std::string get(const std::string& name, const std::string& fallback = "") const;
  bool has(const std::string& name) const { return values_.count(name) > 0; }
  std::vector<std::string> all(const std::string& name) const;  // repeated option values

  // Numeric options, range-checked. Absent: `fallback` (not checked). Present: the whole value must parse,
  // else InvalidArgument naming the command, the option, the accepted range and the value found.
  int64_t get_int(const std::string& name, int64_t fallback, int64_t min, int64_t max = INT64_MAX) const;
  uint64_t get_u64(const std::string& name, uint64_t fallback) const;  // any integer in [0, 2^64)
  // A finite number in [min, max] (max_exclusive: [min, max)).
  double get_double(const std::string& name, double fallback, double min, double max, bool max_exclusive = false) const;
  // One of `choices`; "" when absent and no fallback.
  std::string get_choice(const std::string& name, const std::string& fallback, const std::vector<std::string>& choices) const;

 private:
  std::string command_;
  std::vector<std::string> positional_;
  std::set<std::string> flags_set_;
  std::multimap<std::string, std::string> values_;
};

}  // namespace tttlm::apps
