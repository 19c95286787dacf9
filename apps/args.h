// A small argument parser for the tttlm subcommands: positional arguments, --flag, --key value and
// repeated --set a.b=v. Unknown options are errors that list the accepted ones.
#pragma once

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

 private:
  std::string command_;
  std::vector<std::string> positional_;
  std::set<std::string> flags_set_;
  std::multimap<std::string, std::string> values_;
};

}  // namespace tttlm::apps
