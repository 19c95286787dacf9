// The subcommands of the tttlm program; each parses its options and calls the library.
#pragma once

#include <string>

namespace tttlm::apps {

int run_command(const std::string& cmd, int argc, char** argv);

int cmd_train(int argc, char** argv);
int cmd_eval(int argc, char** argv);
int cmd_generate(int argc, char** argv);
int cmd_tokenize(int argc, char** argv);
int cmd_info(int argc, char** argv);
int cmd_config(int argc, char** argv);
int cmd_init(int argc, char** argv);
int cmd_export(int argc, char** argv);
int cmd_import(int argc, char** argv);

}  // namespace tttlm::apps
