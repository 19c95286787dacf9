// The subcommands of the tttlm program. Each is declared once (apps/cli.h): its arguments, options and the
// function that runs it; the parser, the error messages and the --help texts all come from the declaration.
#pragma once

#include <string>
#include <vector>

#include "apps/cli.h"

namespace tttlm::apps {

Command train_command();
Command eval_command();
Command generate_command();
Command tokenize_command();
Command info_command();
Command config_command();
Command init_command();
Command export_command();
Command import_command();

// Every command, in the order `tttlm --help` lists them (including help and version).
const std::vector<Command>& commands();

// Runs the command line `args` (without the program name): the command's --help, `tttlm --help`,
// `tttlm --version`, or the command. Prints errors as one line on stderr. Returns the exit status:
// 0 success, 1 runtime error, 2 usage error (UsageError).
int run_cli(const std::vector<std::string>& args);

}  // namespace tttlm::apps
