// Facts about the build that a run records (metrics.jsonl "start" records).
#pragma once

#include <string>

namespace tttlm::train {

// The git commit the binary was configured from (CMake passes it; "unknown" outside a git checkout).
std::string build_git_commit();

}  // namespace tttlm::train
