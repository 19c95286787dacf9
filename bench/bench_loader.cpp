// Data loader throughput: batches of (B, T) windows from a memory-mapped token file through the shuffling
// sampler, with and without the prefetch thread; compare with the training tokens/s in
// bench/results/train_step_cpu.txt (target: the loader alone >= 50x the 125M model's tokens/s).
// Usage: bench_loader [--tokens N] [--batch B] [--seq T] [--batches K]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "data/batch_loader.h"
#include "data/npy.h"
#include "data/sampler.h"
#include "data/token_source.h"
#include "data/window_dataset.h"

using namespace tttlm;

int main(int argc, char** argv) {
  int64_t ntok = 50'000'000, B = 4, T = 2048, K = 2000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--tokens")) ntok = std::atoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--batch")) B = std::atoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--seq")) T = std::atoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--batches")) K = std::atoll(argv[i + 1]);
  }
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / "tttlm_bench_loader";
  fs::create_directories(dir);
  std::vector<uint16_t> tokens(ntok);
  for (int64_t i = 0; i < ntok; ++i) tokens[i] = static_cast<uint16_t>((i * 2654435761u) % 32000);
  data::write_npy((dir / "train.npy").string(), tokens.data(), Dtype::u16, {ntok});
  tokens.clear();
  tokens.shrink_to_fit();
  auto source = data::open_split(data::TokenFormat::npy, dir.string(), "train");
  data::WindowOptions w;
  w.seq_len = T;
  auto windows = std::make_shared<const data::WindowDataset>(source, w);
  std::printf("%lld tokens (u16 .npy, page cache warm), batches of %lld x %lld, %lld batches, shuffled\n\n",
              (long long)ntok, (long long)B, (long long)T, (long long)K);
  std::printf("| prefetch | batches/s | tokens/s |\n|---|---|---|\n");
  for (int prefetch : {0, 2}) {
    data::SamplerOptions so;
    so.num_samples = windows->num_samples();
    so.global_batch = B;
    so.seed = 1;
    data::BatchLoader loader(windows, data::Sampler(so), data::LoaderOptions{prefetch});
    for (int i = 0; i < 10; ++i) loader.next();  // warm-up
    auto t0 = std::chrono::steady_clock::now();
    int64_t sum = 0;
    for (int64_t i = 0; i < K; ++i) sum += loader.next().inputs.data<int32_t>()[0];
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("| %d | %.0f | %.3g |\n", prefetch, K / s, static_cast<double>(K * B * T) / s);
    if (sum < 0) std::printf("(impossible)\n");
  }
  fs::remove_all(dir);
  return 0;
}
