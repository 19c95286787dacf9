// Model commands: info, config, init, export, import.
#include <cstdio>

#include "apps/args.h"
#include "apps/commands.h"
#include "layers/model_info.h"
#include "train/hf_format.h"
#include "train/model_io.h"
#include "train/run_config.h"

namespace tttlm::apps {

int cmd_info(int argc, char** argv) {
  Args a("info", argc, argv, 2, {"json"}, {"batch", "seq-len", "set"});
  train::RunConfig c = train::load_run_config(a.positional(0, "CONFIG"), a.all("set"));
  int64_t batch = std::stoll(a.get("batch", std::to_string(c.train.micro_batch_size)));
  int64_t seq = std::stoll(a.get("seq-len", std::to_string(c.data.seq_len)));
  layers::ModelInfo info = layers::model_info(c.model, batch, seq);
  if (a.flag("json")) {
    nlohmann::json j = info.to_json();
    j["kind"] = layers::model_kind_names()[static_cast<int>(c.model.kind)];
    j["batch"] = batch;
    j["seq_len"] = seq;
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  auto gib = [](double b) { return b / (1024.0 * 1024 * 1024); };
  std::printf("model            %s (%s)\n", layers::model_kind_names()[static_cast<int>(c.model.kind)].c_str(), c.source.c_str());
  std::printf("parameters       %lld (%lld in the embedding, tied with the LM head)\n", static_cast<long long>(info.parameters),
              static_cast<long long>(info.embedding_parameters));
  std::printf("FLOPs per token  %.4g training (3 x forward %.4g), at seq_len %lld\n", info.flops_per_token,
              info.forward_flops_per_token, static_cast<long long>(seq));
  if (info.inner_loop_flops_per_token > 0)
    std::printf("  TTT inner loop %.4g forward (included; see docs/flops.md)\n", info.inner_loop_flops_per_token);
  std::printf("memory estimate  %.2f GiB for batch %lld x %lld: weights %.2f, gradients %.2f, AdamW %.2f, activations %.2f\n",
              gib(info.total_bytes()), static_cast<long long>(batch), static_cast<long long>(seq), gib(info.weights_bytes),
              gib(info.gradient_bytes), gib(info.optimizer_bytes), gib(info.activation_bytes));
  return 0;
}

int cmd_config(int argc, char** argv) {
  Args a("config", argc, argv, 2, {"json"}, {"set"});
  train::RunConfig c = train::load_run_config(a.positional(0, "CONFIG"), a.all("set"));
  std::printf("%s\n", c.to_json().dump(a.flag("json") ? -1 : 2).c_str());
  return 0;
}

int cmd_init(int argc, char** argv) {
  Args a("init", argc, argv, 2, {}, {"seed", "out", "set"});
  train::RunConfig c = train::load_run_config(a.positional(0, "CONFIG"), a.all("set"));
  TTT_CHECK(a.has("out"), "[init] --out DIR is required");
  uint64_t seed = std::stoull(a.get("seed", std::to_string(c.train.seed)));
  train::init_model_dir(c.model, seed, a.get("out"));
  std::printf("initialised %s (seed %llu) in %s\n", layers::model_kind_names()[static_cast<int>(c.model.kind)].c_str(),
              static_cast<unsigned long long>(seed), a.get("out").c_str());
  return 0;
}

int cmd_export(int argc, char** argv) {
  Args a("export", argc, argv, 2, {}, {"format", "out"});
  TTT_CHECK(a.get("format", "hf") == "hf", "[export] --format: only \"hf\" is supported, got \"", a.get("format"), "\"");
  TTT_CHECK(a.has("out"), "[export] --out DIR is required");
  train::export_hf(a.positional(0, "CKPT"), a.get("out"));
  std::printf("exported %s to %s (config.json + model.safetensors, TTTForCausalLM)\n", a.positional(0, "CKPT").c_str(),
              a.get("out").c_str());
  return 0;
}

int cmd_import(int argc, char** argv) {
  Args a("import", argc, argv, 2, {}, {"format", "out"});
  TTT_CHECK(a.get("format", "hf") == "hf", "[import] --format: only \"hf\" is supported, got \"", a.get("format"), "\"");
  TTT_CHECK(a.has("out"), "[import] --out DIR is required");
  train::import_hf(a.positional(0, "DIR"), a.get("out"));
  std::printf("imported %s into %s\n", a.positional(0, "DIR").c_str(), a.get("out").c_str());
  return 0;
}

}  // namespace tttlm::apps
