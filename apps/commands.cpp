// The command table and the dispatcher: help, version, "did you mean" for commands, and exit statuses.
#include "apps/commands.h"

#include <cstdio>

#include "apps/usage.h"
#include "core/suggest.h"

namespace tttlm::apps {

namespace {

const Command* find_command(const std::string& name) {
  for (const auto& c : commands())
    if (c.name == name) return &c;
  return nullptr;
}

[[noreturn]] void unknown_command(const std::string& name) {
  std::vector<std::string> names;
  for (const auto& c : commands()) names.push_back(c.name);
  if (!name.empty() && name[0] == '-') {
    const std::string near = suggest_nearest(name, {"--help", "--version"});
    throw UsageError("unknown option " + name + (near.empty() ? "" : "; did you mean " + near + "?"));
  }
  const std::string near = suggest_nearest(name, names);
  throw UsageError("unknown command '" + name + "'" + (near.empty() ? "" : "; did you mean '" + near + "'?"));
}

Command help_command() {
  Command c("help", "print the command list, or the help of one command");
  c.arg("COMMAND", "the command to describe", /*required=*/false);
  c.run = [](const ParsedArgs& a) {
    if (a.positionals().empty()) {
      std::fputs(command_list_text(commands()).c_str(), stdout);
      return 0;
    }
    const Command* c = find_command(a.positional(0));
    if (!c) unknown_command(a.positional(0));
    std::fputs(usage_text(*c).c_str(), stdout);
    return 0;
  };
  return c;
}

Command version_command() {
  Command c("version", "print the version, the git commit it was built from and the backend");
  c.run = [](const ParsedArgs&) {
    std::fputs(version_text().c_str(), stdout);
    return 0;
  };
  return c;
}

}  // namespace

const std::vector<Command>& commands() {
  static const std::vector<Command> all = {train_command(),  eval_command(),   generate_command(), tokenize_command(),
                                           info_command(),   config_command(), init_command(),     export_command(),
                                           import_command(), help_command(),   version_command()};
  return all;
}

int run_cli(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::fputs(command_list_text(commands()).c_str(), stderr);
    return 2;
  }
  const std::string& name = args[0];
  if (name == "--help" || name == "-h") return std::fputs(command_list_text(commands()).c_str(), stdout), 0;
  if (name == "--version") return std::fputs(version_text().c_str(), stdout), 0;
  const Command* c = find_command(name);
  const std::string prefix = c ? "tttlm " + name : "tttlm";
  try {
    if (!c) unknown_command(name);
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    if (wants_help(rest)) return std::fputs(usage_text(*c).c_str(), stdout), 0;
    return c->run(parse_args(*c, rest));
  } catch (const UsageError& e) {
    const std::string hint = c ? "run 'tttlm " + name + " --help' for its arguments and options"
                               : "run 'tttlm --help' for the list of commands";
    std::fprintf(stderr, "%s: error: %s\n%s\n", prefix.c_str(), e.what(), hint.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: error: %s\n", prefix.c_str(), e.what());
    return 1;
  }
}

}  // namespace tttlm::apps
