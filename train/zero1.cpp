#include "train/zero1.h"

#include <algorithm>

#include "core/view.h"
#include "train/flat_copy.h"

namespace tttlm::train {

Zero1::Zero1(std::vector<layers::Parameter*> params, Communicator& comm)
    : params_(std::move(params)), comm_(comm), owner_(params_.size(), 0) {
  const int world = comm_.world_size();
  int64_t total = 0;
  for (auto* p : params_) total += p->value.numel();
  // Rank r takes parameters while the running total stays below (r+1)·total/W: contiguous, balanced runs.
  run_.assign(static_cast<size_t>(world), {0, 0});
  int64_t seen = 0, largest = 0;
  size_t begin = 0;
  for (int r = 0; r < world; ++r) {
    size_t end = begin;
    const int64_t bound = (r + 1 == world) ? total : total * (r + 1) / world;
    while (end < params_.size() && (seen < bound || r + 1 == world)) seen += params_[end++]->value.numel();
    run_[static_cast<size_t>(r)] = {begin, end};
    int64_t n = 0;
    for (size_t i = begin; i < end; ++i) {
      owner_[i] = r;
      n += params_[i]->value.numel();
    }
    largest = std::max(largest, n);
    begin = end;
  }
  buffer_ = Tensor::empty({std::max<int64_t>(2 * largest, 1)}, Dtype::f32, params_.front()->value.device());
}

std::vector<bool> Zero1::owned() const {
  std::vector<bool> out(params_.size());
  for (size_t i = 0; i < params_.size(); ++i) out[i] = owner_[i] == comm_.rank();
  return out;
}

template <class Pack, class Unpack>
void Zero1::broadcast_runs(Pack&& pack, Unpack&& unpack) {
  char* base = static_cast<char*>(buffer_.data_ptr());
  for (int r = 0; r < comm_.world_size(); ++r) {
    auto [begin, end] = run_[static_cast<size_t>(r)];
    if (begin == end) continue;
    const bool mine = r == comm_.rank();
    std::vector<Slot> slots = mine ? pack(begin, end) : unpack(begin, end);
    int64_t n = 0;
    for (const Slot& s : slots) {
      if (mine) copy_to_flat(base + n * static_cast<int64_t>(sizeof(float)), s.tensor);
      n += s.numel;
    }
    comm_.broadcast(view::narrow(buffer_, 0, 0, n), r);
    if (mine) continue;
    int64_t off = 0;
    for (const Slot& s : slots) {
      if (s.tensor.defined()) copy_from_flat(s.tensor, base + off * static_cast<int64_t>(sizeof(float)));
      off += s.numel;
    }
  }
}

void Zero1::share_parameters() {
  auto values = [&](size_t begin, size_t end) {
    std::vector<Slot> out;
    for (size_t i = begin; i < end; ++i) out.push_back({params_[i]->value, params_[i]->value.numel()});
    return out;
  };
  broadcast_runs(values, values);
}

std::map<std::string, Tensor> Zero1::gather_state(const AdamW& opt) {
  std::map<std::string, Tensor> out;
  const bool root = comm_.is_root();
  // Rank r sends the m of its run, then the v; rank 0 keeps a copy of everything, the others discard.
  auto pack = [&](size_t begin, size_t end) {
    std::vector<Slot> slots;
    for (int half = 0; half < 2; ++half)
      for (size_t i = begin; i < end; ++i) {
        const Tensor& t = half ? opt.moment2(i) : opt.moment1(i);
        slots.push_back({t, t.numel()});
        if (root) out[params_[i]->name + (half ? ".v" : ".m")] = t;
      }
    return slots;
  };
  auto unpack = [&](size_t begin, size_t end) {
    std::vector<Slot> slots;
    for (int half = 0; half < 2; ++half)
      for (size_t i = begin; i < end; ++i) {
        Tensor t;
        if (root)
          out[params_[i]->name + (half ? ".v" : ".m")] = t =
              Tensor::empty(params_[i]->shape, Dtype::f32, params_[i]->value.device());
        slots.push_back({t, params_[i]->value.numel()});
      }
    return slots;
  };
  broadcast_runs(pack, unpack);
  return out;
}

}  // namespace tttlm::train
