#include "apps/args.h"

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

}  // namespace tttlm::apps
