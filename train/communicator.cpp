#include "train/communicator.h"

namespace tttlm::train {

namespace {
class Done final : public PendingOp {
 public:
  void wait() override {}
};
}  // namespace

std::unique_ptr<PendingOp> Communicator::all_reduce_sum_async(const Tensor& t) {
  all_reduce_sum(t);
  return std::make_unique<Done>();
}

}  // namespace tttlm::train
