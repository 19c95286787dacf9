// Model benchmarks on the CPU: forward+backward time of one TTT layer inner loop, dual form vs
// primal form, at the 125M layer's shape; tokens/s and peak RSS of training steps of a model config;
// greedy decoding tokens/s, step by step (layers::Decoder) vs the full forward recomputed per token.
// Usage:
//   bench_models ttt [--batch B] [--seq T] [--reps N]            TTT-Linear and TTT-MLP dual vs primal
//   bench_models step CONFIG [--batch B] [--seq T] [--reps N] [--device cpu|cuda] [--peak GFLOPS]
//                    [--precision fp32|bf16]                     training steps (forward, backward, AdamW)
//   bench_models gemm [--seq N] [--device cpu|cuda] [--write]       matmul peak, N^3 in f32 and bf16 inputs
//                                                                (f32 result); --write stores both as the
//                                                                MFU peak of this machine (train/peak_flops.h)
//   bench_models decode CONFIG [--prompt T] [--new N] [--reps N] greedy decoding of N tokens after T
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>

#include "autograd/engine.h"
#include "autograd/ops/copy.h"
#include "autograd/ops/matmul.h"
#include "autograd/ops/matmul_bf16.h"
#include "autograd/ops/reduce.h"
#include "core/allocator.h"
#include "core/cuda_runtime.h"
#include "autograd/ops/ttt.h"
#include "core/philox.h"
#include "autograd/ops/view.h"
#include "layers/causal_lm.h"
#include "layers/decoder.h"
#include "layers/low_precision.h"
#include "layers/model_info.h"
#include "train/optimizer.h"
#include "train/peak_flops.h"
#include "train/run_config.h"

using namespace tttlm;

namespace {

double seconds(const std::function<void()>& f) {
  auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double best_of(int reps, const std::function<void()>& f) {
  f();  // warm-up
  double best = 1e30;
  for (int r = 0; r < reps; ++r) best = std::min(best, seconds(f));
  return best;
}

Tensor rnd(const Shape& s, uint64_t seed, double std) {
  std::vector<float> v(shape_numel(s));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(std * philox::normal(seed, 0, i));
  return Tensor::from_vector(v, s);
}

double peak_rss_gib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / (1024.0 * 1024.0);
}

int bench_ttt(int64_t B, int64_t T, int reps) {
  const int64_t H = 12, D = 64, mb = 16;
  std::printf("TTT inner loop, B=%lld H=%lld T=%lld D=%lld mini_batch=%lld (the 125M layer), best of %d\n\n",
              (long long)B, (long long)H, (long long)T, (long long)D, (long long)mb, reps);
  std::printf(
      "| variant | dual fwd ms | dual fwd+bwd ms | primal fwd ms | dual fwd speedup over primal "
      "|\n|---|---|---|---|---|\n");
  for (bool mlp : {false, true}) {
    const int64_t I = mlp ? 4 * D : D;
    Tensor q = rnd({B, H, T, D}, 1, 1.0), k = rnd({B, H, T, D}, 2, 1.0), v = rnd({B, H, T, D}, 3, 1.0);
    std::vector<float> tau(mb);
    for (int64_t i = 0; i < mb; ++i) tau[i] = 1.0f / static_cast<float>(i + 1);
    Tensor token_eta = Tensor::from_vector(tau, {mb});
    Tensor lr = Tensor::full({B, H, T}, 0.5 / D, Dtype::f32);
    Tensor w1 = rnd({H, D, I}, 4, 0.02), b1 = Tensor::zeros({H, I}, Dtype::f32);
    Tensor w2 = rnd({H, I, D}, 5, 0.02), b2 = Tensor::zeros({H, D}, Dtype::f32);
    Tensor lnw = Tensor::full({H, D}, 1.0, Dtype::f32), lnb = Tensor::zeros({H, D}, Dtype::f32);
    std::vector<Tensor> params = {q, k, v, w1, b1, w2, b2, lnw, lnb};
    const ops::TttSequenceInputs seq{q, k, v, token_eta, lr, lnw, lnb};
    const ops::TttInner inner =
        mlp ? ops::TttInner{ops::InnerModel::mlp, {w1, b1, w2, b2}} : ops::TttInner{ops::InnerModel::linear, {w1, b1}};
    auto dual = [&] { return ops::ttt(seq, inner); };
    double fwd, fwdbwd, primal;
    {
      autograd::NoGradGuard ng;
      fwd = best_of(reps, [&] { dual(); });
      primal = best_of(std::max(1, reps / 2), [&] { ops::ttt_primal(seq, inner); });
    }
    for (auto& p : params) p.set_requires_grad(true);
    fwdbwd = best_of(reps, [&] {
      autograd::backward(ops::sum(dual()));
      for (auto& p : params) p.set_grad(Tensor());
    });
    for (auto& p : params) p.set_requires_grad(false);
    std::printf("| %s | %.1f | %.1f | %.1f | %.2fx |\n", mlp ? "TTT-MLP" : "TTT-Linear", fwd * 1e3, fwdbwd * 1e3,
                primal * 1e3, primal / fwd);
  }
  return 0;
}

// --device cuda: the model and batch on the GPU, each step synchronised before the clock stops; the memory
// column is then the caching allocator's peak, and --peak GFLOPS (the card's measured peak) adds an MFU.
int bench_step(const std::string& config, int64_t B, int64_t T, int reps, const std::string& device_name,
               double peak_gflops, std::string precision) {
  train::RunConfig rc = train::load_run_config(config);
  if (precision.empty()) precision = rc.train.precision;
  TTT_CHECK(precision == "fp32" || precision == "bf16", "[bench] --precision takes fp32 or bf16, got ", precision);
  layers::ModelConfig c = rc.model;
  if (T > c.max_seq_len) c.max_seq_len = T;
  const bool cuda = device_name == "cuda";
  TTT_CHECK(cuda || device_name == "cpu", "[bench] --device takes cpu or cuda, got ", device_name);
  const Device dev = cuda ? cuda_device() : cpu_device();
  layers::CausalLM model(c);
  model.materialize(dev, 0);
  layers::set_bf16_copies(model.parameters(), precision == "bf16");
  train::AdamW opt(model.parameters(), rc.optimizer);
  std::vector<int32_t> ids(B * T), tg(B * T);
  for (int64_t i = 0; i < B * T; ++i) {
    ids[i] = static_cast<int32_t>((i * 7919) % c.vocab_size);
    tg[i] = static_cast<int32_t>((i * 104729 + 1) % c.vocab_size);
  }
  Tensor in = ops::to(Tensor::from_vector(ids, {B, T}), dev), target = ops::to(Tensor::from_vector(tg, {B, T}), dev);
  Tensor mask = ops::to(Tensor::full({B, T}, 1.0, Dtype::f32), dev);
  if (cuda) cuda_reset_peak_memory(dev.index);
  double step = best_of(reps, [&] {
    autograd::backward(model.loss(in, target, mask));
    opt.step(1e-4);
    layers::refresh_bf16_copies(model.parameters());
    opt.zero_grad();
    if (cuda) cuda_synchronize();
  });
  layers::ModelInfo info = layers::model_info(c, B, T);
  double tps = static_cast<double>(B * T) / step;
  const double gflops = info.flops_per_token * tps / 1e9;
  const double mem = cuda ? cuda_memory_stats(dev.index).peak_allocated / 1073741824.0 : peak_rss_gib();
  if (peak_gflops <= 0) peak_gflops = train::matmul_peak(0, dev, precision).gflops;
  std::printf("| %s | %s | %lld | %lld x %lld | %.3f s | %.0f | %.1f GFLOP/s",
              layers::model_kind_names()[static_cast<int>(c.kind)].c_str(), precision.c_str(),
              (long long)info.parameters, (long long)B, (long long)T, step, tps, gflops);
  if (peak_gflops > 0) std::printf(" (MFU %.1f%%)", 100.0 * gflops / peak_gflops);
  std::printf(" | %.2f GiB |\n", mem);
  return 0;
}

// The device's matmul peak as tttlm reaches it (ops::matmul, N x N x N, f32 and bf16): the denominator of MFU.
// bf16 is the mixed-precision training product (ops::linear_bf16: bf16 inputs, f32 accumulation and result).
int bench_gemm_peak(const std::string& device_name, int64_t N, int reps, bool write) {
  const Device dev = device_name == "cuda" ? cuda_device() : cpu_device();
  autograd::NoGradGuard ng;
  for (const char* precision : {"fp32", "bf16"}) {
    const bool bf16 = precision[0] == 'b';
    Tensor a = ops::to(rnd({N, N}, 1, 1.0), dev), b = ops::to(rnd({N, N}, 2, 1.0), dev);
    Tensor b16 = ops::cast(b, Dtype::bf16);
    double t = best_of(reps, [&] {
      Tensor c = bf16 ? ops::linear_bf16(a, b, b16) : ops::matmul(a, b);
      if (dev.is_cuda()) cuda_synchronize();
    });
    const double gflops = 2.0 * N * N * N / t / 1e9;
    std::printf("| matmul %s | %lld^3 | %.3f ms | %.1f GFLOP/s |\n", precision, (long long)N, t * 1e3, gflops);
    if (write) std::printf("peak written to %s\n", train::write_matmul_peak(dev, precision, gflops).c_str());
  }
  return 0;
}

int32_t argmax(const Tensor& logits, int64_t vocab) {  // logits (V') -> the best of the first `vocab`
  std::vector<float> l = logits.to_vector<float>();
  return static_cast<int32_t>(std::max_element(l.begin(), l.begin() + vocab) - l.begin());
}

// What train::generate_tokens did before the Decoder: one full forward over the last max_seq_len tokens
// for every new token (greedy).
std::vector<int32_t> generate_full_recompute(const layers::CausalLM& model, std::vector<int32_t> tokens, int64_t n) {
  autograd::NoGradGuard ng;
  const int64_t limit = model.config().max_seq_len;
  std::vector<int32_t> out;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t keep = std::min<int64_t>(static_cast<int64_t>(tokens.size()), limit);
    std::vector<int32_t> window(tokens.end() - keep, tokens.end());
    const int64_t T = static_cast<int64_t>(window.size());
    Tensor logits = model.forward(Tensor::from_vector(window, {1, T}));
    out.push_back(argmax(ops::select(ops::select(logits, 0, 0), 0, T - 1), model.config().vocab_size));
    tokens.push_back(out.back());
  }
  return out;
}

// Greedy decoding of N tokens after a T-token prompt (batch 1), best of `reps` runs of each path: the
// Decoder's prefill and steps (tokens/s of the steps alone and end to end) vs the full recomputation.
int bench_decode(const std::string& config, int64_t T, int64_t N, int reps) {
  TTT_CHECK(T >= 1 && N >= 2, "[bench] decode needs --prompt >= 1 and --new >= 2, got ", T, " and ", N);
  layers::ModelConfig c = train::load_run_config(config).model;
  layers::CausalLM model(c);
  model.materialize(cpu_device(), 0);
  std::vector<int32_t> prompt(T);
  for (int64_t i = 0; i < T; ++i) prompt[i] = static_cast<int32_t>((i * 7919 + 1) % c.vocab_size);
  layers::Decoder decoder(model, 1);
  TTT_CHECK(decoder.max_positions() < 0 || T + N - 1 <= decoder.max_positions(), "[bench] prompt ", T, " + new ", N,
            " exceeds max_seq_len = ", decoder.max_positions());
  double prefill = 1e30, steps = 1e30, full = 1e30;
  std::vector<int32_t> fast, slow;
  for (int r = 0; r < std::max(1, reps); ++r) {
    decoder.reset();
    fast.clear();
    Tensor logits;
    prefill = std::min(prefill, seconds([&] { logits = decoder.prefill(Tensor::from_vector(prompt, {1, T})); }));
    steps = std::min(steps, seconds([&] {
                       for (int64_t i = 0; i < N; ++i) {
                         fast.push_back(argmax(ops::select(logits, 0, 0), c.vocab_size));
                         if (i + 1 < N)
                           logits = decoder.step(Tensor::from_vector(std::vector<int32_t>{fast.back()}, {1}));
                       }
                     }));
    full = std::min(full, seconds([&] { slow = generate_full_recompute(model, prompt, N); }));
  }
  const double per_step = static_cast<double>(N - 1) / steps, recompute = static_cast<double>(N) / full;
  std::printf("| %s | %lld | %lld | %lld | %.3f s | %.1f | %.1f | %.2f | %.0fx | %s |\n",
              layers::model_kind_names()[static_cast<int>(c.kind)].c_str(), (long long)model.num_parameters(),
              (long long)T, (long long)N, prefill, per_step, static_cast<double>(N) / (prefill + steps), recompute,
              per_step / recompute, fast == slow ? "yes" : "NO");
  return fast == slow ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: bench_models ttt|step|decode|gemm [CONFIG] [--batch B] [--seq T] [--reps N] [--prompt T] "
                 "[--new N] [--device cpu|cuda] [--peak GFLOPS] [--precision fp32|bf16] [--write]\n");
    return 2;
  }
  std::string mode = argv[1], config;
  int64_t B = 1, T = 2048, prompt = 128, fresh = 32;
  int reps = 3;
  std::string device = "cpu";
  double peak = 0;
  bool write = false;
  std::string precision;
  for (int i = 2; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--batch") && i + 1 < argc)
      B = std::atoll(argv[++i]);
    else if (!std::strcmp(argv[i], "--seq") && i + 1 < argc)
      T = std::atoll(argv[++i]);
    else if (!std::strcmp(argv[i], "--reps") && i + 1 < argc)
      reps = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--prompt") && i + 1 < argc)
      prompt = std::atoll(argv[++i]);
    else if (!std::strcmp(argv[i], "--new") && i + 1 < argc)
      fresh = std::atoll(argv[++i]);
    else if (!std::strcmp(argv[i], "--device") && i + 1 < argc)
      device = argv[++i];
    else if (!std::strcmp(argv[i], "--peak") && i + 1 < argc)
      peak = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--precision") && i + 1 < argc)
      precision = argv[++i];
    else if (!std::strcmp(argv[i], "--write"))
      write = true;
    else
      config = argv[i];
  }
  try {
    if (mode == "ttt") return bench_ttt(B, T, reps);
    if (mode == "step") return bench_step(config, B, T, reps, device, peak, precision);
    if (mode == "gemm") return bench_gemm_peak(device, T, reps, write);
    if (mode == "decode") return bench_decode(config, prompt, fresh, reps);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_models: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "bench_models: unknown mode %s\n", mode.c_str());
  return 2;
}
