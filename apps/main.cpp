// tttlm: the command line. Parses arguments and calls train/, data/ and layers/; every error is caught
// here, printed as one line and turned into exit status 1 (2 for usage errors).
#include <cstdio>
#include <cstring>
#include <string>

#include "apps/args.h"
#include "apps/commands.h"
#include "core/error.h"

namespace {

const char* kUsage = R"(tttlm - train Test-Time Training language models

usage: tttlm COMMAND [ARGS]

  train CONFIG [--set a.b=v ...] [--overwrite]
                                        train from a JSON config (run directory: train.run_dir; one
                                        that holds a run is refused, --overwrite removes it first)
  train RUN_DIR --resume [--set ...]    continue a run exactly where its latest checkpoint stopped
  eval CKPT [--split validation] [--batches N] [--per-position] [--data DIR]
                                        loss and perplexity of a model on a split
  eval CKPT --tokens IDS.npy --dump-logits OUT.npy
                                        f32 logits [batch, seq, vocab] for int32/int64 ids [batch, seq]
  generate CKPT --prompt TEXT [--max-tokens N] [--temperature T] [--seed S] [--tokenizer MODEL]
  tokenize --out DIR [--format npy|bin|both] [--tokenizer MODEL | --vocab-size N] [--val-fraction F] FILES...
                                        (train a SentencePiece BPE when no --tokenizer is given)
  info CONFIG [--batch B] [--seq-len T] [--json]
                                        exact parameter count, FLOPs per token, memory estimate
  config CONFIG [--set ...] [--json]    print the resolved config with every default
  init CONFIG --seed S --out DIR [--overwrite]
                                        write a freshly initialised model (model.safetensors + config.json)
  export CKPT --format hf --out DIR [--overwrite]
                                        the official PyTorch TTT model's format (TTTForCausalLM)
  import DIR --format hf --out DIR [--overwrite]
                                        read that format back into a tttlm model directory
  version                               build information

CKPT is a model directory, a checkpoint directory (RUN/checkpoints/step_N) or a run directory (its latest).
--out of init, export and import must be a new or empty directory unless --overwrite is given.
Numeric options are range-checked: counts and sizes >= 1, seeds >= 0, --temperature finite and >= 0.
)";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "help") || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string cmd = argv[1];
  try {
    return tttlm::apps::run_command(cmd, argc, argv);
  } catch (const tttlm::InvalidArgument& e) {
    std::fprintf(stderr, "tttlm %s: error: %s\n", cmd.c_str(), e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tttlm %s: error: %s\n", cmd.c_str(), e.what());
    return 1;
  }
}
