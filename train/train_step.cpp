#include "train/train_step.h"

#include <chrono>
#include <cmath>
#include <csignal>

#include "autograd/engine.h"
#include "autograd/ops/copy.h"
#include "autograd/ops/elementwise.h"
#include "layers/low_precision.h"
#include "train/checkpoint.h"
#include "train/schedule.h"
#include "train/stop_signal.h"

namespace tttlm::train {

namespace {

// The mean loss over ranks, all-reduced together with each rank's stop signal (train/stop_signal.h), so
// that every rank stops after the same step at no extra collective: a signal on any rank stops all.
std::pair<double, int> reduce_loss_and_stop(double local_loss, Communicator& comm) {
  const int sig = stop_signal();
  const int signals[] = {SIGTERM, SIGUSR1, SIGINT};
  Tensor t = Tensor::from_vector<float>({static_cast<float>(local_loss / comm.world_size()), sig == SIGTERM ? 1.f : 0.f,
                                         sig == SIGUSR1 ? 1.f : 0.f, sig == SIGINT ? 1.f : 0.f},
                                        {4});
  comm.all_reduce_sum(t);
  int stop = 0;
  for (int i = 0; i < 3 && !stop; ++i)
    if (t.data<float>()[i + 1] > 0) stop = signals[i];
  return {t.data<float>()[0], stop};
}

}  // namespace

StepStats train_step(TrainState& st, const RunConfig& cfg, Communicator& comm, GradReducer* reducer, Device device,
                     int64_t accumulation) {
  const auto start = std::chrono::steady_clock::now();
  StepStats out;
  out.step = st.step + 1;
  layers::ForwardContext ctx;
  ctx.ttt_lr_mult = ttt_lr_mult_at(cfg.model, out.step);
  out.ttt_lr_mult = ctx.ttt_lr_mult;

  // Forward and backward of each micro-batch; each loss is scaled by 1/(accumulation·world) so that the
  // gradients summed over micro-batches and ranks are those of the mean loss.
  double loss_sum = 0;
  for (int64_t micro = 0; micro < accumulation; ++micro) {
    Batch b = st.data->next_micro_batch();
    if (reducer && micro + 1 == accumulation) reducer->arm();  // all-reduce buckets during the last backward
    Tensor loss = st.model->loss(ops::to(b.inputs, device), ops::to(b.targets, device), ops::to(b.mask, device), ctx);
    autograd::backward(ops::scale(loss, 1.0 / static_cast<double>(accumulation * comm.world_size())));
    loss_sum += loss.item();
  }
  if (reducer) reducer->finish();
  std::tie(out.loss, out.stop_signal) = reduce_loss_and_stop(loss_sum / static_cast<double>(accumulation), comm);

  // Clip, refuse a non-finite step, update.
  AdamW& opt = *st.optimizer;
  out.grad_norm = opt.clip_grad_norm(cfg.optimizer.clip_grad_norm);
  if (!std::isfinite(out.loss) || !std::isfinite(out.grad_norm)) {
    const std::string last = latest_checkpoint(cfg.train.run_dir);
    throw RuntimeError("[train] step " + std::to_string(out.step) + ": loss " + std::to_string(out.loss) +
                       ", gradient norm " + std::to_string(out.grad_norm) +
                       " is not finite; stopped without updating. The last good checkpoint is " +
                       (last.empty() ? std::string("(none written yet)") : last));
  }
  out.lr = lr_at(cfg.optimizer, opt.count());
  opt.step(out.lr);
  if (st.zero) st.zero->share_parameters();
  layers::refresh_bf16_copies(st.params);  // once per step; a no-op in f32
  opt.zero_grad();
  st.step = out.step;
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace tttlm::train
