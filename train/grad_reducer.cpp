#include "train/grad_reducer.h"

#include <chrono>

#include "autograd/engine.h"
#include "autograd/ops/copy.h"
#include "core/view.h"
#include "train/flat_copy.h"

namespace tttlm::train {

GradReducer::GradReducer(std::vector<layers::Parameter*> params, Communicator& comm, double bucket_mb)
    : params_(std::move(params)), comm_(comm), where_(params_.size()), done_(params_.size(), false) {
  TTT_CHECK(bucket_mb > 0, "[grad_reducer] parallel.bucket_mb must be > 0, got ", bucket_mb);
  TTT_CHECK(!params_.empty(), "[grad_reducer] no parameters");
  const int64_t cap = static_cast<int64_t>(bucket_mb * 1024 * 1024 / sizeof(float));
  const Device device = params_.front()->value.device();
  for (size_t k = params_.size(); k-- > 0;) {
    layers::Parameter* p = params_[k];
    TTT_CHECK(p->value.defined() && p->value.dtype() == Dtype::f32 && p->value.device() == device,
              "[grad_reducer] parameter ", p->name, " must be materialised as f32 on ", device.str(), ", got ",
              p->value.defined() ? p->value.describe() : std::string("nothing"));
    if (buckets_.empty() || buckets_.back().numel >= cap) buckets_.emplace_back();
    Bucket& b = buckets_.back();
    where_[k] = {buckets_.size() - 1, b.members.size()};
    b.members.push_back(k);
    b.offsets.push_back(b.numel);
    b.numel += p->value.numel();
  }
  for (Bucket& b : buckets_) {
    b.buffer = Tensor::zeros({b.numel}, Dtype::f32, device);
    stats_.bytes += b.numel * static_cast<int64_t>(sizeof(float));
  }
  stats_.buckets = static_cast<int64_t>(buckets_.size());
}

GradReducer::~GradReducer() {
  for (auto* p : params_)
    if (p->value.defined()) p->value.autograd_meta().grad_ready_hook = nullptr;
}

std::vector<int64_t> GradReducer::bucket_of() const {
  std::vector<int64_t> out;
  for (auto& w : where_) out.push_back(static_cast<int64_t>(w.first));
  return out;
}

void GradReducer::arm() {
  TTT_CHECK(!armed_, "[grad_reducer] arm() twice without finish()");
  armed_ = true;
  next_ = 0;
  stats_.started_in_backward = 0;
  stats_.wait_seconds = 0;
  std::fill(done_.begin(), done_.end(), false);
  for (Bucket& b : buckets_) b.pending = static_cast<int64_t>(b.members.size());
  for (size_t k = 0; k < params_.size(); ++k)
    params_[k]->value.autograd_meta().grad_ready_hook = [this, k](const Tensor&) { ready(k); };
}

void GradReducer::copy_in(size_t k) {
  auto [bi, mi] = where_[k];
  Bucket& b = buckets_[bi];
  const Tensor& value = params_[k]->value;
  char* dst = static_cast<char*>(b.buffer.data_ptr()) + b.offsets[mi] * static_cast<int64_t>(sizeof(float));
  Tensor g = value.grad();
  if (!g.defined()) {
    zero_flat(dst, static_cast<size_t>(value.numel()) * sizeof(float), value.device());
  } else {
    TTT_CHECK(g.shape() == value.shape() && g.dtype() == Dtype::f32, "[grad_reducer] gradient of ", params_[k]->name,
              " is ", g.describe(), ", expected f32 ", shape_str(value.shape()));
    autograd::NoGradGuard ng;
    if (!g.is_contiguous()) g = ops::contiguous(g);
    copy_to_flat(dst, g);
  }
  done_[k] = true;
  --b.pending;
}

void GradReducer::ready(size_t k) {
  if (!armed_) return;
  TTT_CHECK(!done_[k], "[grad_reducer] the gradient of ", params_[k]->name,
            " was reported final twice in one backward pass");
  copy_in(k);
  start_in_order();
  stats_.started_in_backward = static_cast<int64_t>(next_);
}

void GradReducer::start_in_order() {
  while (next_ < buckets_.size() && buckets_[next_].pending == 0) {
    buckets_[next_].op = comm_.all_reduce_sum_async(buckets_[next_].buffer);
    ++next_;
  }
}

void GradReducer::finish() {
  TTT_CHECK(armed_, "[grad_reducer] finish() without arm()");
  for (size_t k = params_.size(); k-- > 0;)
    if (!done_[k]) copy_in(k);
  start_in_order();
  auto t0 = std::chrono::steady_clock::now();
  for (Bucket& b : buckets_) {
    b.op->wait();
    b.op.reset();
  }
  stats_.wait_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (size_t k = 0; k < params_.size(); ++k) {
    auto [bi, mi] = where_[k];
    Tensor& value = params_[k]->value;
    value.autograd_meta().grad_ready_hook = nullptr;
    value.set_grad(
        view::reshape(view::narrow(buckets_[bi].buffer, 0, buckets_[bi].offsets[mi], value.numel()), value.shape()));
  }
  armed_ = false;
}

}  // namespace tttlm::train
