// tttlm: the command line. apps/commands.cpp dispatches to the subcommands, prints every error as one line
// and returns the exit status: 0 success, 1 runtime error, 2 usage error (docs/cli.md).
#include <string>
#include <vector>

#include "apps/commands.h"

int main(int argc, char** argv) { return tttlm::apps::run_cli(std::vector<std::string>(argv + 1, argv + argc)); }
