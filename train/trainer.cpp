#include "train/trainer.h"

#include <omp.h>

#include <chrono>
#include <csignal>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "autograd/engine.h"
#include "autograd/ops/copy.h"
#include "autograd/ops/elementwise.h"
#include "core/cuda_runtime.h"
#include "layers/causal_lm.h"
#include "layers/low_precision.h"
#include "layers/model_info.h"
#include "train/build_info.h"
#include "train/checkpoint.h"
#include "train/data_pipeline.h"
#include "train/evaluate.h"
#include "train/grad_reducer.h"
#include "train/memory_check.h"
#include "train/metrics.h"
#include "train/optimizer.h"
#include "train/peak_flops.h"
#include "train/resume_state.h"
#include "train/run_dir.h"
#include "train/safetensors.h"
#include "train/schedule.h"
#include "train/stop_signal.h"
#include "train/zero1.h"

namespace tttlm::train {

namespace fs = std::filesystem;

namespace {

std::string fmt_g(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string model_hash(const RunConfig& c) {
  return std::to_string(std::hash<std::string>{}(c.model.to_json().dump()));
}

// Names the model keys that differ between two configs (for the resume error).
std::string model_diff(const nlohmann::json& a, const nlohmann::json& b) {
  std::string out;
  for (auto it = a.begin(); it != a.end(); ++it)
    if (!b.contains(it.key()) || b[it.key()] != *it)
      out += (out.empty() ? "" : ", ") + std::string("model.") + it.key() + " (checkpoint " +
             (b.contains(it.key()) ? b[it.key()].dump() : "absent") + ", now " + it->dump() + ")";
  return out;
}

}  // namespace

RunConfig resolve_run_config(const TrainOptions& o) {
  if (fs::is_directory(o.config_path)) {
    RunConfig c = load_run_dir_config(o.config_path, o.overrides);
    c.train.run_dir = o.config_path;
    return c;
  }
  return load_run_config(o.config_path, o.overrides);
}

TrainResult run_training(const TrainOptions& options, Communicator& comm) {
  RunConfig cfg = resolve_run_config(options);
  if (cfg.train.threads > 0) omp_set_num_threads(static_cast<int>(cfg.train.threads));
  const bool root = comm.is_root();
  comm.set_timeout(static_cast<double>(cfg.parallel.timeout_s));
  TTT_CHECK(!(cfg.parallel.backend == "single" && comm.world_size() > 1), "[train] ", cfg.source,
            ": parallel.backend is \"single\" but the launcher started ", comm.world_size(), " processes");
  comm.check_same("config", cfg.to_json().dump());
  on_every_rank(comm, "train", [&] {
    TTT_CHECK(cfg.parallel.backend != "nccl" || comm.name() == "nccl" || comm.world_size() == 1, "[train] ", cfg.source,
              ": parallel.backend is \"nccl\" but this run uses the ", comm.name(), " communicator");
    TTT_CHECK(comm.name() != "mpi" || cfg.train.device == "cpu", "[train] ", cfg.source,
              ": parallel.backend \"mpi\" sums CPU tensors but train.device is \"", cfg.train.device,
              "\"; use \"nccl\" or \"auto\" for GPUs");
    TTT_CHECK(comm.name() != "nccl" || cfg.train.device == "cuda", "[train] ", cfg.source,
              ": parallel.backend \"nccl\" needs train.device \"cuda\"");
    TTT_CHECK(cfg.train.device != "cuda" || comm.local_rank() < cuda_device_count(), "[train] rank ", comm.rank(),
              " (local rank ", comm.local_rank(), "): train.device is \"cuda\" but ",
              cuda_device_description(comm.local_rank()), "; start at most as many ranks per node as it has GPUs");
    cfg.accumulation_steps(comm.world_size());
  });
  const Device device = cfg.train.device == "cuda" ? cuda_device(comm.local_rank()) : cpu_device();
  const std::string run_dir = cfg.train.run_dir;
  const int64_t accum = cfg.accumulation_steps(comm.world_size());

  TTT_CHECK(!(options.resume && options.overwrite), "[train] --resume and --overwrite exclude each other: --resume continues ",
            run_dir, ", --overwrite starts it over");
  // Before the run directory is touched: a model that cannot fit is refused with the estimate.
  on_every_rank(comm, "memory", [&] { check_training_memory(cfg, device, comm.world_size()); });
  std::string ckpt_dir = options.resume ? latest_checkpoint(run_dir) : "";
  TTT_CHECK(!options.resume || !ckpt_dir.empty(), "[train] --resume: ", run_dir,
            " has no checkpoint (checkpoints/latest); start it over with --overwrite instead of --resume");
  if (!options.resume)
    on_every_rank(comm, "run directory", [&] {
      if (!root) return;
      for (const std::string& p : prepare_fresh_run_dir(run_dir, options.overwrite).removed)
        std::printf("tttlm train: --overwrite: removed %s\n", p.c_str());
      std::fflush(stdout);
    });

  layers::CausalLM model(cfg.model);
  model.materialize(device, static_cast<uint64_t>(cfg.train.seed));
  std::vector<layers::Parameter*> params = model.parameters();
  // bf16: the matmul weights get bf16 copies, kept current by load_state_dict and after every step.
  layers::set_bf16_copies(params, cfg.train.precision == "bf16");
  std::unique_ptr<Zero1> zero;
  if (cfg.parallel.zero1 && comm.world_size() > 1) zero = std::make_unique<Zero1>(params, comm);
  AdamW opt(params, cfg.optimizer, zero ? zero->owned() : std::vector<bool>{});
  std::unique_ptr<TrainData> data_ptr;
  on_every_rank(comm, "data", [&] { data_ptr = std::make_unique<TrainData>(cfg, comm.rank(), comm.world_size()); });
  TrainData& data = *data_ptr;
  int64_t step = 0;
  if (!ckpt_dir.empty()) {
    CheckpointData ck = load_checkpoint(ckpt_dir);
    const std::string state_path = ckpt_dir + "/state.json";
    const ResumeState rs = parse_resume_state(ck.state, state_path, cfg.train.total_steps);
    std::string diff = model_diff(cfg.model.to_json(), rs.model);
    TTT_CHECK(diff.empty(), "[train] --resume: the config changes the model of ", ckpt_dir, ": ", diff);
    model.load_state_dict(ck.model, ckpt_dir + "/model.safetensors");
    model.to_device(device);
    params = model.parameters();
    if (zero) zero = std::make_unique<Zero1>(params, comm);
    opt = AdamW(params, cfg.optimizer, zero ? zero->owned() : std::vector<bool>{});
    opt.load_state_dict(ck.optimizer, ckpt_dir + "/optimizer.safetensors");
    opt.set_count(rs.optimizer_count);
    try {
      data.load_state(rs.sampler);  // refuses a changed global batch, seq_len, seed or data
    } catch (const InvalidArgument& e) {
      throw InvalidArgument("[train] --resume: " + state_path + ": key 'sampler': " + e.what());
    }
    step = rs.step;
  }
  // Only now, with a resume validated in full, may the run's config.json change: a refused resume leaves
  // the run directory exactly as it was.
  if (root) {
    fs::create_directories(run_dir);
    save_run_configs(run_dir, cfg);
  }

  // Records logged after the checkpoint (by a run that was killed later) are redone by this run: drop them.
  if (root && step > 0) drop_metrics_after(run_dir, step);

  const layers::ModelInfo info = layers::model_info(cfg.model, cfg.train.micro_batch_size, cfg.data.seq_len);
  const Peak peak = matmul_peak(cfg.log.peak_gflops, device, cfg.train.precision);
  MetricsLog metrics((fs::path(run_dir) / "metrics.jsonl").string(), root);
  metrics.write({{"type", "start"}, {"step", step}, {"resume", step > 0}, {"git_commit", build_git_commit()},
                 {"world_size", comm.world_size()}, {"config_hash", cfg.hash()}, {"total_steps", cfg.train.total_steps}});
  Progress progress(cfg.train.total_steps, root && cfg.log.progress && !options.quiet, step);
  if (root && !options.quiet)
    progress.message("tttlm train: " + cfg.source + " -> " + run_dir + " | " +
                     layers::model_kind_names()[static_cast<int>(cfg.model.kind)] + ", " +
                     std::to_string(info.parameters) + " parameters, " + std::to_string(cfg.train.global_batch_size) +
                     " x " + std::to_string(cfg.data.seq_len) + " tokens per step, " + std::to_string(accum) +
                     " micro-batches of " + std::to_string(cfg.train.micro_batch_size) + " per rank, " +
                     std::to_string(comm.world_size()) + " rank(s) (" + comm.name() + (zero ? ", ZeRO-1" : "") + "), " +
                     device.str() + ", " + cfg.train.precision + ", MFU peak " +
                     (peak.gflops > 0 ? fmt_g(peak.gflops) + " GFLOP/s (" + peak.source + ")"
                                      : std::string("unknown (set log.peak_gflops or run bench_models gemm --write)")) +
                     (step ? ", resumed at step " + std::to_string(step) : ""));

  std::unique_ptr<EvalData> eval_data;
  auto run_eval = [&](int64_t at_step) {
    if (!eval_data) eval_data = std::make_unique<EvalData>(cfg, cfg.data.val_split, cfg.train.micro_batch_size);
    EvalResult e = evaluate(model, *eval_data, cfg.train.eval_batches, device);
    metrics.write({{"type", "eval"}, {"step", at_step}, {"loss", e.loss}, {"perplexity", e.perplexity},
                   {"tokens", e.tokens}, {"loss_per_position", e.per_position}});
    if (!options.quiet) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "eval @ step %lld: loss %.4f  ppl %.2f  (%lld tokens)", static_cast<long long>(at_step),
                    e.loss, e.perplexity, static_cast<long long>(e.tokens));
      progress.message(buf);
    }
    return e.loss;
  };
  auto save = [&](int64_t at_step) -> std::string {
    CheckpointData ck;
    ck.optimizer = zero ? zero->gather_state(opt) : opt.state_dict();  // collective with ZeRO-1
    if (!root) return "";
    ck.model = model.state_dict();
    ck.state = {{"step", at_step},
                {"optimizer_count", opt.count()},
                {"sampler", data.state()},
                {"config_hash", model_hash(cfg)},
                {"model", cfg.model.to_json()},
                {"world_size", comm.world_size()},
                {"seed", cfg.train.seed}};
    std::string dir = save_checkpoint(run_dir, at_step, ck, cfg.train.keep_last);
    if (!options.quiet) progress.message("checkpoint: " + dir);
    return dir;
  };

  std::unique_ptr<GradReducer> reducer;
  if (comm.world_size() > 1) {
    reducer = std::make_unique<GradReducer>(params, comm, cfg.parallel.bucket_mb);
    if (root && !options.quiet)
      progress.message("data parallel: " + std::to_string(reducer->stats().bytes >> 20) + " MiB of gradients in " +
                       std::to_string(reducer->stats().buckets) + " buckets of >= " + fmt_g(cfg.parallel.bucket_mb) + " MB, all-reduced during the last micro-batch's backward" +
                       (zero ? "; ZeRO-1: this rank keeps " + std::to_string(opt.state_numel() * 4 >> 20) +
                                   " MiB of AdamW moments" : ""));
  }

  TrainResult result;
  result.run_dir = run_dir;
  if (step == 0 && cfg.train.eval_every > 0) run_eval(0);  // the loss at initialisation, for the curves
  const double tokens_per_step = static_cast<double>(cfg.train.global_batch_size * cfg.data.seq_len);
  while (step < cfg.train.total_steps) {
    const int64_t s = step + 1;
    auto t0 = std::chrono::steady_clock::now();
    layers::ForwardContext ctx;
    ctx.ttt_lr_mult = ttt_lr_mult_at(cfg.model, s);
    double loss_sum = 0;
    for (int64_t micro = 0; micro < accum; ++micro) {
      Batch b = data.next_micro_batch();
      if (reducer && micro + 1 == accum) reducer->arm();  // all-reduce buckets during the last backward
      Tensor loss = model.loss(ops::to(b.inputs, device), ops::to(b.targets, device), ops::to(b.mask, device), ctx);
      autograd::backward(ops::scale(loss, 1.0 / static_cast<double>(accum * comm.world_size())));
      loss_sum += loss.item();
    }
    // Gradients summed across ranks (each rank's micro-batch losses were already scaled by 1/(accum·world)).
    if (reducer) reducer->finish();
    double loss_local = loss_sum / static_cast<double>(accum);
    // The loss sum also carries each rank's stop signal (train/stop_signal.h), so that every rank stops
    // after the same step at no extra collective: a signal on any rank stops all of them.
    const int sig = stop_signal();
    const int stop_signals[] = {SIGTERM, SIGUSR1, SIGINT};
    Tensor lt = Tensor::from_vector<float>({static_cast<float>(loss_local / comm.world_size()), sig == SIGTERM ? 1.f : 0.f,
                                            sig == SIGUSR1 ? 1.f : 0.f, sig == SIGINT ? 1.f : 0.f}, {4});
    comm.all_reduce_sum(lt);
    const double loss_value = lt.data<float>()[0];
    int stop_with = 0;
    for (int i = 0; i < 3 && !stop_with; ++i)
      if (lt.data<float>()[i + 1] > 0) stop_with = stop_signals[i];
    const double gnorm = opt.clip_grad_norm(cfg.optimizer.clip_grad_norm);
    if (!std::isfinite(loss_value) || !std::isfinite(gnorm)) {
      std::string last = latest_checkpoint(run_dir);
      throw RuntimeError("[train] step " + std::to_string(s) + ": loss " + std::to_string(loss_value) + ", gradient norm " +
                         std::to_string(gnorm) + " is not finite; stopped without updating. The last good checkpoint is " +
                         (last.empty() ? std::string("(none written yet)") : last));
    }
    const double lr = lr_at(cfg.optimizer, opt.count());
    if (opt.count() >= cfg.optimizer.decay_steps && result.warnings.empty()) {
      result.warnings.push_back("step " + std::to_string(s) + " runs past optimizer.decay_steps " +
                                std::to_string(cfg.optimizer.decay_steps) + " (given explicitly in " + cfg.source +
                                "): it and every later step train at optimizer.end_lr " + fmt_g(cfg.optimizer.end_lr) +
                                "; to decay over the whole run leave decay_steps out (it then follows train.total_steps) "
                                "or pass --set optimizer.decay_steps=" + std::to_string(cfg.train.total_steps));
      if (root) std::fprintf(stderr, "tttlm train: warning: %s\n", result.warnings.back().c_str());
    }
    opt.step(lr);
    if (zero) zero->share_parameters();
    layers::refresh_bf16_copies(params);  // once per step; a no-op in f32
    opt.zero_grad();
    step = s;
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double tps = tokens_per_step / secs;
    const double flops_per_sec = info.flops_per_token * tps;
    const double mfu = peak.gflops > 0 ? flops_per_sec / (peak.gflops * 1e9 * comm.world_size()) : -1.0;
    result.final_loss = loss_value;
    metrics.write({{"type", "train"}, {"step", s}, {"loss", loss_value}, {"lr", lr}, {"grad_norm", gnorm},
                   {"tokens", static_cast<double>(s) * tokens_per_step}, {"tokens_per_sec", tps},
                   {"flops_per_sec", flops_per_sec}, {"mfu", mfu >= 0 ? nlohmann::json(mfu) : nlohmann::json()},
                   {"step_seconds", secs}, {"ttt_lr_mult", ctx.ttt_lr_mult},
                   {"flops", static_cast<double>(s) * tokens_per_step * info.flops_per_token},
                   {"comm_wait_seconds", reducer ? reducer->stats().wait_seconds : 0.0},
                   {"comm_buckets_in_backward", reducer ? reducer->stats().started_in_backward : 0}});
    if (cfg.log.every > 0 && (s % cfg.log.every == 0 || s == cfg.train.total_steps))
      progress.update(s, loss_value, lr, gnorm, tps, flops_per_sec, mfu);
    const bool last = s == cfg.train.total_steps;
    if ((cfg.train.eval_every > 0 && s % cfg.train.eval_every == 0) || last) result.final_eval_loss = run_eval(s);
    const bool saved = (cfg.train.checkpoint_every > 0 && s % cfg.train.checkpoint_every == 0) || last;
    std::string dir = saved || stop_with ? save(s) : "";
    ++result.steps_done;
    if (stop_with && !last) {
      result.stopped_by = stop_signal_name(stop_with);
      result.checkpoint = dir;
      break;
    }
    if (options.stop_after_step > 0 && s >= options.stop_after_step) break;
  }
  progress.finish();
  return result;
}

}  // namespace tttlm::train
