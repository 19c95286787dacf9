// Model commands: info, config, init, export, import.
#include <cstdio>
#include <filesystem>

#include "apps/args.h"
#include "apps/commands.h"
#include "layers/model_info.h"
#include "train/hf_format.h"
#include "train/model_io.h"
#include "train/run_config.h"

namespace tttlm::apps {

namespace {

// --out of init, export and import: a new or empty directory, or --overwrite. Writing config.json and
// model.safetensors into a model or run directory would silently replace a trained model.
void check_out_dir(const char* cmd, const std::string& dir, bool overwrite) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return;
  TTT_CHECK(fs::is_directory(dir, ec), "[", cmd, "] --out ", dir, ": expected a directory; found a file");
  std::string found;
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (n++ < 4) found += (found.empty() ? "" : ", ") + e.path().filename().string();
  }
  if (n > 4) found += " and " + std::to_string(n - 4) + " more";
  TTT_CHECK(n == 0 || overwrite, "[", cmd, "] --out ", dir, ": expected a new or empty directory; found one holding ",
            found, " (pass --overwrite to replace its files)");
}

}  // namespace

int cmd_info(int argc, char** argv) {
  Args a("info", argc, argv, 2, {"json"}, {"batch", "seq-len", "set"});
  train::RunConfig c = train::load_run_config(a.positional(0, "CONFIG"), a.all("set"));
  const int64_t batch = a.get_int("batch", c.train.micro_batch_size, 1);
  const int64_t seq = a.get_int("seq-len", c.data.seq_len, 1);
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
  Args a("init", argc, argv, 2, {"overwrite"}, {"seed", "out", "set"});
  train::RunConfig c = train::load_run_config(a.positional(0, "CONFIG"), a.all("set"));
  TTT_CHECK(a.has("out"), "[init] --out DIR is required");
  const uint64_t seed = a.get_u64("seed", static_cast<uint64_t>(c.train.seed));
  check_out_dir("init", a.get("out"), a.flag("overwrite"));
  train::init_model_dir(c.model, seed, a.get("out"));
  std::printf("initialised %s (seed %llu) in %s\n", layers::model_kind_names()[static_cast<int>(c.model.kind)].c_str(),
              static_cast<unsigned long long>(seed), a.get("out").c_str());
  return 0;
}

int cmd_export(int argc, char** argv) {
  Args a("export", argc, argv, 2, {"overwrite"}, {"format", "out"});
  TTT_CHECK(a.get("format", "hf") == "hf", "[export] --format: only \"hf\" is supported, got \"", a.get("format"), "\"");
  TTT_CHECK(a.has("out"), "[export] --out DIR is required");
  check_out_dir("export", a.get("out"), a.flag("overwrite"));
  train::export_hf(a.positional(0, "CKPT"), a.get("out"));
  std::printf("exported %s to %s (config.json + model.safetensors, TTTForCausalLM)\n", a.positional(0, "CKPT").c_str(),
              a.get("out").c_str());
  return 0;
}

int cmd_import(int argc, char** argv) {
  Args a("import", argc, argv, 2, {"overwrite"}, {"format", "out"});
  TTT_CHECK(a.get("format", "hf") == "hf", "[import] --format: only \"hf\" is supported, got \"", a.get("format"), "\"");
  TTT_CHECK(a.has("out"), "[import] --out DIR is required");
  check_out_dir("import", a.get("out"), a.flag("overwrite"));
  train::import_hf(a.positional(0, "DIR"), a.get("out"));
  std::printf("imported %s into %s\n", a.positional(0, "DIR").c_str(), a.get("out").c_str());
  return 0;
}

}  // namespace tttlm::apps
