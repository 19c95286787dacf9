#include "train/trainer.h"

#include <omp.h>

#include <filesystem>

#include "core/cuda_runtime.h"
#include "layers/model_info.h"
#include "train/build_info.h"
#include "train/checkpoint.h"
#include "train/evaluate.h"
#include "train/memory_check.h"
#include "train/metrics.h"
#include "train/peak_flops.h"
#include "train/run_dir.h"
#include "train/schedule.h"
#include "train/stop_signal.h"
#include "train/train_step.h"

namespace tttlm::train {

namespace fs = std::filesystem;

namespace {

std::string fmt_g(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// Refuses, on every rank, a launch that does not fit the config: the communicator against
// parallel.backend and train.device, more ranks on a node than it has GPUs, a global batch the ranks
// cannot split. Every rank must hold the same config.
void check_launch(const RunConfig& cfg, Communicator& comm) {
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
}

std::string start_banner(const RunConfig& cfg, const Communicator& comm, const layers::ModelInfo& info, bool zero,
                         int64_t accumulation, const Device& device, const Peak& peak, int64_t step) {
  return "tttlm train: " + cfg.source + " -> " + cfg.train.run_dir + " | " +
         layers::model_kind_names()[static_cast<int>(cfg.model.kind)] + ", " + std::to_string(info.parameters) +
         " parameters, " + std::to_string(cfg.train.global_batch_size) + " x " + std::to_string(cfg.data.seq_len) +
         " tokens per step, " + std::to_string(accumulation) + " micro-batches of " +
         std::to_string(cfg.train.micro_batch_size) + " per rank, " + std::to_string(comm.world_size()) + " rank(s) (" +
         comm.name() + (zero ? ", ZeRO-1" : "") + "), " + device.str() + ", " + cfg.train.precision + ", MFU peak " +
         (peak.gflops > 0 ? fmt_g(peak.gflops) + " GFLOP/s (" + peak.source + ")"
                          : std::string("unknown (set log.peak_gflops or run bench_models gemm --write)")) +
         (step ? ", resumed at step " + std::to_string(step) : "");
}

// The warning for a step past an explicit optimizer.decay_steps (the rest of the run trains at end_lr).
std::string past_decay_warning(const RunConfig& cfg, int64_t step) {
  return "step " + std::to_string(step) + " runs past optimizer.decay_steps " +
         std::to_string(cfg.optimizer.decay_steps) + " (given explicitly in " + cfg.source +
         "): it and every later step train at optimizer.end_lr " + fmt_g(cfg.optimizer.end_lr) +
         "; to decay over the whole run leave decay_steps out (it then follows train.total_steps) "
         "or pass --set optimizer.decay_steps=" +
         std::to_string(cfg.train.total_steps);
}

}  // namespace

TrainResult run_training(const TrainOptions& options, Communicator& comm) {
  return run_training(resolve_run_config(options.config_path, options.overrides), options, comm);
}

TrainResult run_training(const RunConfig& cfg, const TrainOptions& options, Communicator& comm) {
  // 1. Check everything before the run directory is touched: the launch, the memory the model needs, the
  //    checkpoint a resume starts from (build_train_state validates it in full).
  if (cfg.train.threads > 0) omp_set_num_threads(static_cast<int>(cfg.train.threads));
  const bool root = comm.is_root();
  comm.set_timeout(static_cast<double>(cfg.parallel.timeout_s));
  check_launch(cfg, comm);
  const Device device = cfg.train.device == "cuda" ? cuda_device(comm.local_rank()) : cpu_device();
  const std::string& run_dir = cfg.train.run_dir;
  const int64_t accum = cfg.accumulation_steps(comm.world_size());
  TTT_CHECK(!(options.resume && options.overwrite),
            "[train] --resume and --overwrite exclude each other: --resume continues ", run_dir,
            ", --overwrite starts it over");
  on_every_rank(comm, "memory", [&] { check_training_memory(cfg, device, comm.world_size()); });
  const std::string resume_from = options.resume ? latest_checkpoint(run_dir) : "";
  TTT_CHECK(!options.resume || !resume_from.empty(), "[train] --resume: ", run_dir,
            " has no checkpoint (checkpoints/latest); start it over with --overwrite instead of --resume");
  if (!options.resume)
    on_every_rank(comm, "run directory", [&] {
      if (!root) return;
      for (const std::string& p : prepare_fresh_run_dir(run_dir, options.overwrite).removed)
        std::printf("tttlm train: --overwrite: removed %s\n", p.c_str());
      std::fflush(stdout);
    });
  TrainState st = build_train_state(cfg, resume_from, device, comm);
  // Only now, with a resume validated in full, may the run's config.json change: a refused resume leaves
  // the run directory exactly as it was.
  if (root) {
    fs::create_directories(run_dir);
    save_run_configs(run_dir, cfg);
  }

  // 2. Logging, evaluation, checkpoints, gradient all-reduce.
  const layers::ModelInfo info = layers::model_info(cfg.model, cfg.train.micro_batch_size, cfg.data.seq_len);
  const Peak peak = matmul_peak(cfg.log.peak_gflops, device, cfg.train.precision);
  MetricsLog metrics((fs::path(run_dir) / "metrics.jsonl").string(), root, st.step);
  metrics.write({{"type", "start"},
                 {"step", st.step},
                 {"resume", st.step > 0},
                 {"git_commit", build_git_commit()},
                 {"world_size", comm.world_size()},
                 {"config_hash", cfg.hash()},
                 {"total_steps", cfg.train.total_steps}});
  Progress progress(cfg.train.total_steps, root && cfg.log.progress && !options.quiet, st.step);
  if (root && !options.quiet)
    progress.message(start_banner(cfg, comm, info, st.zero != nullptr, accum, device, peak, st.step));

  std::unique_ptr<EvalData> eval_data;
  auto run_eval = [&](int64_t at_step) {
    if (!eval_data) eval_data = std::make_unique<EvalData>(cfg, cfg.data.val_split, cfg.train.micro_batch_size);
    EvalResult e = evaluate(*st.model, *eval_data, cfg.train.eval_batches, device);
    metrics.write({{"type", "eval"},
                   {"step", at_step},
                   {"loss", e.loss},
                   {"perplexity", e.perplexity},
                   {"tokens", e.tokens},
                   {"loss_per_position", e.per_position}});
    if (!options.quiet) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "eval @ step %lld: loss %.4f  ppl %.2f  (%lld tokens)",
                    static_cast<long long>(at_step), e.loss, e.perplexity, static_cast<long long>(e.tokens));
      progress.message(buf);
    }
    return e.loss;
  };
  auto save = [&]() -> std::string {
    CheckpointData ck = checkpoint_of(st, cfg, comm);
    if (!root) return "";
    std::string dir = save_checkpoint(run_dir, st.step, ck, cfg.train.keep_last);
    if (!options.quiet) progress.message("checkpoint: " + dir);
    return dir;
  };
  std::unique_ptr<GradReducer> reducer;
  if (comm.world_size() > 1) {
    reducer = std::make_unique<GradReducer>(st.params, comm, cfg.parallel.bucket_mb);
    if (root && !options.quiet)
      progress.message("data parallel: " + std::to_string(reducer->stats().bytes >> 20) + " MiB of gradients in " +
                       std::to_string(reducer->stats().buckets) + " buckets of >= " + fmt_g(cfg.parallel.bucket_mb) +
                       " MB, all-reduced during the last micro-batch's backward" +
                       (st.zero ? "; ZeRO-1: this rank keeps " + std::to_string(st.optimizer->state_numel() * 4 >> 20) +
                                      " MiB of AdamW moments"
                                : ""));
  }

  // 3. The loop: step, log, evaluate when due, save when due or when a stop signal arrived.
  TrainResult result;
  result.run_dir = run_dir;
  if (st.step == 0 && cfg.train.eval_every > 0) run_eval(0);  // the loss at initialisation, for the curves
  const double tokens_per_step = static_cast<double>(cfg.train.global_batch_size * cfg.data.seq_len);
  const auto due = [](int64_t every, int64_t s) { return every > 0 && s % every == 0; };
  while (st.step < cfg.train.total_steps) {
    if (st.optimizer->count() >= cfg.optimizer.decay_steps && result.warnings.empty()) {
      result.warnings.push_back(past_decay_warning(cfg, st.step + 1));
      if (root) std::fprintf(stderr, "tttlm train: warning: %s\n", result.warnings.back().c_str());
    }
    const StepStats s = train_step(st, cfg, comm, reducer.get(), device, accum);
    const double tps = tokens_per_step / s.seconds;
    const double flops_per_sec = info.flops_per_token * tps;
    const double mfu = peak.gflops > 0 ? flops_per_sec / (peak.gflops * 1e9 * comm.world_size()) : -1.0;
    result.final_loss = s.loss;
    metrics.write({{"type", "train"},
                   {"step", s.step},
                   {"loss", s.loss},
                   {"lr", s.lr},
                   {"grad_norm", s.grad_norm},
                   {"tokens", static_cast<double>(s.step) * tokens_per_step},
                   {"tokens_per_sec", tps},
                   {"flops_per_sec", flops_per_sec},
                   {"mfu", mfu >= 0 ? nlohmann::json(mfu) : nlohmann::json()},
                   {"step_seconds", s.seconds},
                   {"ttt_lr_mult", s.ttt_lr_mult},
                   {"flops", static_cast<double>(s.step) * tokens_per_step * info.flops_per_token},
                   {"comm_wait_seconds", reducer ? reducer->stats().wait_seconds : 0.0},
                   {"comm_buckets_in_backward", reducer ? reducer->stats().started_in_backward : 0}});
    const bool last = s.step == cfg.train.total_steps;
    if (cfg.log.every > 0 && (s.step % cfg.log.every == 0 || last))
      progress.update(s.step, s.loss, s.lr, s.grad_norm, tps, flops_per_sec, mfu);
    if (due(cfg.train.eval_every, s.step) || last) result.final_eval_loss = run_eval(s.step);
    const std::string dir = due(cfg.train.checkpoint_every, s.step) || last || s.stop_signal ? save() : "";
    ++result.steps_done;
    if (s.stop_signal && !last) {
      result.stopped_by = stop_signal_name(s.stop_signal);
      result.checkpoint = dir;
      break;
    }
    if (options.stop_after_step > 0 && s.step >= options.stop_after_step) break;
  }
  progress.finish();
  return result;
}

}  // namespace tttlm::train
