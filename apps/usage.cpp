#include "apps/usage.h"

#include "core/cuda_runtime.h"
#include "train/build_info.h"

namespace tttlm::apps {

namespace {

constexpr size_t kColumn = 26;  // help texts start here

// "  LEFT      help": the help on the same line when LEFT fits, else on the next line.
std::string row(const std::string& left, const std::string& help) {
  std::string out = "  " + left;
  if (out.size() + 2 > kColumn)
    out += "\n" + std::string(kColumn, ' ');
  else
    out += std::string(kColumn - out.size(), ' ');
  return out + help + "\n";
}

std::string positional_text(const Positional& p) {
  std::string s = p.variadic ? p.name + "..." : p.name;
  return p.required ? s : "[" + s + "]";
}

std::string option_left(const Option& o) {
  std::string s = o.short_name ? std::string("-") + o.short_name + ", " : "";
  s += "--" + o.name;
  if (o.kind != ValueKind::flag) s += " " + o.metavar;
  return s;
}

std::string option_help(const Option& o) {
  std::string h = o.help;
  const std::string expected = expected_text(o);
  if (!expected.empty() && o.kind != ValueKind::choice) h += "; " + expected;
  std::string notes;
  if (!o.default_value.empty()) notes = "default " + o.default_value;
  if (o.required) notes += std::string(notes.empty() ? "" : ", ") + "required";
  if (o.repeated) notes += std::string(notes.empty() ? "" : ", ") + "repeatable";
  return notes.empty() ? h : h + " (" + notes + ")";
}

}  // namespace

std::string usage_text(const Command& c) {
  std::string out = "usage: tttlm " + c.name;
  for (const auto& p : c.positionals) out.append(" ").append(positional_text(p));
  out += " [options]\n\n" + c.summary + "\n";
  if (!c.positionals.empty()) {
    out += "\narguments:\n";
    for (const auto& p : c.positionals) out += row(positional_text(p), p.help);
  }
  out += "\noptions:\n";
  for (const auto& o : c.options) out += row(option_left(o), option_help(o));
  if (!c.details.empty()) {
    out += "\n";
    for (const auto& d : c.details) out += d + "\n";
  }
  return out;
}

std::string command_list_text(const std::vector<Command>& commands) {
  std::string out =
      "tttlm - train Test-Time Training language models\n\n"
      "usage: tttlm COMMAND [ARGS] [options]\n"
      "       tttlm COMMAND --help      the arguments and options of COMMAND\n"
      "       tttlm --version           the version and the git commit it was built from\n\n"
      "commands:\n";
  for (const auto& c : commands) out += row(c.name, c.summary);
  out +=
      "\nexit status: 0 success, 1 runtime error (config, files, training), 2 usage error (unknown command or\n"
      "option, missing or invalid value); see docs/cli.md.\n";
  return out;
}

std::string version_text() {
  return "tttlm 0.1 (commit " + train::build_git_commit() + ", " +
         (cuda_build_enabled() ? "CUDA backend" : "CPU only") + ")\n";
}

}  // namespace tttlm::apps
