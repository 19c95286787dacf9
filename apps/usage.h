// The help texts, generated from the command declarations (apps/cli.h) so that they list exactly what the
// parser accepts: `tttlm --help` (every command with its one-line summary) and `tttlm CMD --help`.
#pragma once

#include <string>
#include <vector>

#include "apps/cli.h"

namespace tttlm::apps {

// "usage: tttlm eval CKPT [options]", the summary, the arguments, every option with its accepted values
// and default, then the command's details.
std::string usage_text(const Command& command);

// The program's usage: the command list with summaries, how to get a command's help, the exit statuses.
std::string command_list_text(const std::vector<Command>& commands);

// "tttlm 0.1 (commit 0123abcd..., CPU only)": the version, the git commit it was built from, the backend.
std::string version_text();

}  // namespace tttlm::apps
