#include "train/build_info.h"

#ifndef TTTLM_GIT_COMMIT
#define TTTLM_GIT_COMMIT "unknown"
#endif

namespace tttlm::train {

std::string build_git_commit() { return TTTLM_GIT_COMMIT; }

}  // namespace tttlm::train
