// Model commands: info, config, init, export, import; each declares its arguments (apps/cli.h) next to its body.
#include <cstdio>
#include <filesystem>

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

int run_info(const ParsedArgs& a) {
  train::RunConfig c = train::load_run_config(a.positional(0), a.all("set"));
  const int64_t batch = a.has("batch") ? a.integer("batch") : c.train.micro_batch_size;
  const int64_t seq = a.has("seq-len") ? a.integer("seq-len") : c.data.seq_len;
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
  std::printf("model            %s (%s)\n", layers::model_kind_names()[static_cast<int>(c.model.kind)].c_str(),
              c.source.c_str());
  std::printf("parameters       %lld (%lld in the embedding, tied with the LM head)\n",
              static_cast<long long>(info.parameters), static_cast<long long>(info.embedding_parameters));
  std::printf("FLOPs per token  %.4g training (3 x forward %.4g), at seq_len %lld\n", info.flops_per_token,
              info.forward_flops_per_token, static_cast<long long>(seq));
  if (info.inner_loop_flops_per_token > 0)
    std::printf("  TTT inner loop %.4g forward (included; see docs/flops.md)\n", info.inner_loop_flops_per_token);
  std::printf(
      "memory estimate  %.2f GiB for batch %lld x %lld: weights %.2f, gradients %.2f, AdamW %.2f, activations %.2f\n",
      gib(info.total_bytes()), static_cast<long long>(batch), static_cast<long long>(seq), gib(info.weights_bytes),
      gib(info.gradient_bytes), gib(info.optimizer_bytes), gib(info.activation_bytes));
  return 0;
}

int run_config(const ParsedArgs& a) {
  train::RunConfig c = train::load_run_config(a.positional(0), a.all("set"));
  std::printf("%s\n", c.to_json().dump(a.flag("json") ? -1 : 2).c_str());
  return 0;
}

int run_init(const ParsedArgs& a) {
  train::RunConfig c = train::load_run_config(a.positional(0), a.all("set"));
  const uint64_t seed = a.has("seed") ? a.u64("seed") : static_cast<uint64_t>(c.train.seed);
  check_out_dir("init", a.text("out"), a.flag("overwrite"));
  train::init_model_dir(c.model, seed, a.text("out"));
  std::printf("initialised %s (seed %llu) in %s\n", layers::model_kind_names()[static_cast<int>(c.model.kind)].c_str(),
              static_cast<unsigned long long>(seed), a.text("out").c_str());
  return 0;
}

int run_export(const ParsedArgs& a) {
  check_out_dir("export", a.text("out"), a.flag("overwrite"));
  const train::ExportResult r =
      train::export_hf(a.positional(0), a.text("out"), a.has("tokenizer") ? a.text("tokenizer") : "");
  std::printf("exported %s to %s (config.json + model.safetensors, %s%s)\n", a.positional(0).c_str(),
              a.text("out").c_str(), r.architecture.c_str(),
              r.tokenizer.empty() ? "; no tokenizer copied: pass --tokenizer MODEL" : " + tokenizer.model");
  return 0;
}

int run_import(const ParsedArgs& a) {
  check_out_dir("import", a.text("out"), a.flag("overwrite"));
  train::import_hf(a.positional(0), a.text("out"));
  std::printf("imported %s into %s\n", a.positional(0).c_str(), a.text("out").c_str());
  return 0;
}

}  // namespace

Command info_command() {
  Command c("info", "exact parameter count, FLOPs per token and memory estimate of a config's model");
  c.arg("CONFIG", "a JSON config (docs/config.md)");
  c.integer("batch", "B", "batch size of the memory estimate (default: train.micro_batch_size)", 1);
  c.integer("seq-len", "T", "sequence length of the estimates (default: data.seq_len)", 1);
  c.text("set", "KEY=VALUE", "override a config key").many();
  c.flag("json", "print one JSON object");
  c.run = run_info;
  return c;
}

Command config_command() {
  Command c("config", "print the resolved config with every default filled in");
  c.arg("CONFIG", "a JSON config (docs/config.md)");
  c.text("set", "KEY=VALUE", "override a config key").many();
  c.flag("json", "print it on one line");
  c.run = run_config;
  return c;
}

Command init_command() {
  Command c("init", "write a freshly initialised model (model.safetensors + config.json)");
  c.arg("CONFIG", "a JSON config (docs/config.md); its model section is used");
  c.text("out", "DIR", "the model directory to write (new or empty unless --overwrite)").req();
  c.u64("seed", "S", "the initialisation seed (default: train.seed)");
  c.text("set", "KEY=VALUE", "override a config key").many();
  c.flag("overwrite", "write into a directory that holds files, replacing them");
  c.run = run_init;
  return c;
}

Command export_command() {
  Command c("export", "write a model in its Hugging Face class (TTTForCausalLM, LlamaForCausalLM, MambaForCausalLM)");
  c.arg("CKPT", "a model, checkpoint or run directory");
  c.choice("format", "the format to write", {"hf"}).def("hf");
  c.text("tokenizer", "MODEL", "the tokenizer to copy (default: data.tokenizer of the run's config)");
  c.text("out", "DIR", "the directory to write (new or empty unless --overwrite)").req();
  c.flag("overwrite", "write into a directory that holds files, replacing them");
  c.run = run_export;
  return c;
}

Command import_command() {
  Command c("import", "read a Hugging Face export (TTT, Llama or Mamba) into a tttlm model directory");
  c.arg("DIR",
        "a directory with config.json and model.safetensors (TTTForCausalLM, LlamaForCausalLM, MambaForCausalLM)");
  c.choice("format", "the format to read", {"hf"}).def("hf");
  c.text("out", "DIR", "the model directory to write (new or empty unless --overwrite)").req();
  c.flag("overwrite", "write into a directory that holds files, replacing them");
  c.run = run_import;
  return c;
}

}  // namespace tttlm::apps
