// Run commands: train, eval, generate, tokenize, and the dispatcher.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "apps/args.h"
#include "apps/commands.h"
#include "autograd/engine.h"
#include "autograd/ops/copy.h"
#include "core/cuda_runtime.h"
#include "data/npy.h"
#include "data/tokenize.h"
#include "data/tokenizer.h"
#include "train/communicator_factory.h"
#include "train/data_pipeline.h"
#include "train/evaluate.h"
#include "train/generate.h"
#include "train/stop_signal.h"
#include "train/model_io.h"
#include "train/trainer.h"

namespace tttlm::apps {

namespace fs = std::filesystem;

int cmd_train(int argc, char** argv) {
  Args a("train", argc, argv, 2, {"resume", "overwrite", "quiet"}, {"set"});
  train::TrainOptions o;
  o.config_path = a.positional(0, "CONFIG or RUN_DIR");
  o.overrides = a.all("set");
  o.resume = a.flag("resume");
  o.overwrite = a.flag("overwrite");
  o.quiet = a.flag("quiet");
  train::install_stop_handlers();  // before MPI_Init and OpenMP start threads, which inherit the blocked signals
  auto comm = train::make_communicator(o);
  train::TrainResult r;
  try {
    r = train::run_training(o, *comm);
  } catch (const train::CollectiveError&) {
    throw;  // every rank has it and exits normally
  } catch (const std::exception& e) {
    if (comm->world_size() == 1) throw;
    // The other ranks wait in a collective: end this process now, without MPI_Finalize, so that the
    // launcher ends the job (instead of every rank waiting for parallel.timeout_s).
    std::fprintf(stderr, "tttlm train: error on rank %d of %d: %s\n", comm->rank(), comm->world_size(), e.what());
    std::fflush(stderr);
    std::_Exit(1);
  }
  if (!r.stopped_by.empty()) {
    if (comm->is_root()) {
      std::fprintf(stderr, "tttlm train: received %s; checkpoint %s written; resume with: tttlm train %s --resume\n",
                   r.stopped_by.c_str(), fs::path(r.checkpoint).filename().string().c_str(), r.run_dir.c_str());
      std::fflush(stderr);
    }
    return 0;
  }
  if (comm->is_root() && !o.quiet)
    std::printf("done: %lld steps, final train loss %.4f, eval loss %.4f; run directory %s\n",
                static_cast<long long>(r.steps_done), r.final_loss, r.final_eval_loss, r.run_dir.c_str());
  return 0;
}

int cmd_eval(int argc, char** argv) {
  Args a("eval", argc, argv, 2, {"per-position", "json"}, {"split", "batches", "tokens", "dump-logits", "data", "batch-size", "device"});
  const Device device = a.get_choice("device", "cpu", {"cpu", "cuda"}) == "cuda" ? cuda_device(0) : cpu_device();
  const int64_t batch_size_opt = a.get_int("batch-size", 0, 1), batches_opt = a.get_int("batches", 0, 1);
  train::LoadedModel m = train::load_model(a.positional(0, "CKPT"), device);
  autograd::NoGradGuard ng;
  if (a.has("tokens")) {
    TTT_CHECK(a.has("dump-logits"), "[eval] --tokens needs --dump-logits OUT.npy");
    Tensor ids = data::read_npy(a.get("tokens"));
    TTT_CHECK(ids.ndim() == 2 && (ids.dtype() == Dtype::i32 || ids.dtype() == Dtype::i64), "[eval] ", a.get("tokens"),
              ": expected int32 or int64 ids of shape [batch, seq], got ", ids.describe());
    Tensor logits = ops::to(m.model->forward(ops::to(ids, device)), cpu_device());
    data::write_npy(a.get("dump-logits"), ops::contiguous(logits));
    std::printf("wrote logits %s to %s\n", shape_str(logits.shape()).c_str(), a.get("dump-logits").c_str());
    return 0;
  }
  // Split evaluation needs the data section of the run's config (or --data DIR).
  const std::string cfg = train::run_config_path(a.positional(0, "CKPT"));
  TTT_CHECK(!cfg.empty() || a.has("data"), "[eval] ", a.positional(0, "CKPT"), " is not inside a run directory; pass --data DIR");
  train::RunConfig rc = !cfg.empty() ? train::load_run_config(cfg) : train::RunConfig{};
  rc.model = m.config;
  if (a.has("data")) rc.data.path = a.get("data");
  if (rc.data.seq_len > rc.model.max_seq_len) rc.data.seq_len = rc.model.max_seq_len;
  const int64_t bs = a.has("batch-size") ? batch_size_opt : rc.train.micro_batch_size;
  train::EvalData data(rc, a.get("split", rc.data.val_split), bs);
  const int64_t batches = a.has("batches") ? batches_opt : data.num_batches();
  train::EvalResult r = train::evaluate(*m.model, data, batches, device);
  if (a.flag("json")) {
    std::printf("%s\n", nlohmann::json{{"loss", r.loss}, {"perplexity", r.perplexity}, {"tokens", r.tokens},
                                       {"loss_per_position", r.per_position}}.dump().c_str());
    return 0;
  }
  std::printf("%s on %s: loss %.4f, perplexity %.2f over %lld tokens (%lld batches of %lld x %lld)\n",
              a.positional(0, "CKPT").c_str(), a.get("split", rc.data.val_split).c_str(), r.loss, r.perplexity,
              static_cast<long long>(r.tokens), static_cast<long long>(std::min(batches, data.num_batches())),
              static_cast<long long>(bs), static_cast<long long>(rc.data.seq_len));
  if (a.flag("per-position")) {
    std::printf("loss by position (mean over the positions of each block):\n");
    const size_t n = r.per_position.size(), blocks = std::min<size_t>(16, n);
    for (size_t b = 0; b < blocks; ++b) {
      size_t lo = b * n / blocks, hi = (b + 1) * n / blocks;
      double s = 0;
      for (size_t i = lo; i < hi; ++i) s += r.per_position[i];
      std::printf("  positions %5zu-%5zu  %.4f\n", lo, hi - 1, s / static_cast<double>(hi - lo));
    }
  }
  return 0;
}

int cmd_generate(int argc, char** argv) {
  Args a("generate", argc, argv, 2, {}, {"prompt", "max-tokens", "temperature", "seed", "tokenizer", "device"});
  const std::string ck = a.positional(0, "CKPT");
  const Device device = a.get_choice("device", "cpu", {"cpu", "cuda"}) == "cuda" ? cuda_device(0) : cpu_device();
  const int64_t max_tokens = a.get_int("max-tokens", 64, 1);
  const double temperature = a.get_double("temperature", 0.8, 0.0, 1e6);
  const uint64_t seed = a.get_u64("seed", 0);
  train::LoadedModel m = train::load_model(ck, device);
  std::string tok_path = a.get("tokenizer");
  if (tok_path.empty()) {
    const std::string cfg = train::run_config_path(ck);
    if (!cfg.empty()) tok_path = train::load_run_config(cfg).data.tokenizer;
  }
  TTT_CHECK(!tok_path.empty(), "[generate] no tokenizer: pass --tokenizer MODEL (or set data.tokenizer in the run's config)");
  data::Tokenizer tok = data::Tokenizer::load(tok_path);
  std::vector<int32_t> ids = {tok.bos_id()};
  for (int32_t id : tok.encode(a.get("prompt", ""))) ids.push_back(id);
  auto out = train::generate_tokens(*m.model, ids, max_tokens, temperature, seed, tok.eos_id());
  std::printf("%s%s\n", a.get("prompt", "").c_str(), tok.decode(out).c_str());
  return 0;
}

int cmd_tokenize(int argc, char** argv) {
  Args a("tokenize", argc, argv, 2, {"quiet", "jsonl"},
         {"out", "format", "tokenizer", "vocab-size", "val-fraction", "seed", "threads", "shard-tokens", "text-field",
          "doc-separator", "lines-per-doc"});
  TTT_CHECK(a.has("out"), "[tokenize] --out DIR is required");
  TTT_CHECK(!a.positional().empty(), "[tokenize] no input text files given");
  data::TokenizeOptions o;
  // Documents: one per file; JSONL lines (--jsonl, or every input named *.jsonl); pieces between
  // --doc-separator STR (\n, \t and \\ are unescaped); blocks of --lines-per-doc N lines.
  data::DocumentSpec docs;
  docs.inputs = a.positional();
  const bool all_jsonl = std::all_of(docs.inputs.begin(), docs.inputs.end(),
                                     [](const std::string& f) { return fs::path(f).extension() == ".jsonl"; });
  const int modes = (a.flag("jsonl") || all_jsonl) + a.has("doc-separator") + a.has("lines-per-doc");
  TTT_CHECK(modes <= 1, "[tokenize] choose one of --jsonl (or *.jsonl inputs), --doc-separator and --lines-per-doc");
  if (a.flag("jsonl") || all_jsonl) docs.kind = data::DocKind::jsonl;
  TTT_CHECK(!a.has("text-field") || docs.kind == data::DocKind::jsonl, "[tokenize] --text-field applies to JSONL input only");
  docs.text_field = a.get("text-field", "text");
  if (a.has("doc-separator")) {
    docs.kind = data::DocKind::separator;
    const std::string raw = a.get("doc-separator");
    for (size_t i = 0; i < raw.size(); ++i) {
      char c = raw[i];
      if (c == '\\' && i + 1 < raw.size() && (raw[i + 1] == 'n' || raw[i + 1] == 't' || raw[i + 1] == '\\')) {
        c = raw[i + 1] == 'n' ? '\n' : raw[i + 1] == 't' ? '\t' : '\\';
        ++i;
      }
      docs.separator += c;
    }
  }
  if (a.has("lines-per-doc")) {
    docs.kind = data::DocKind::line_blocks;
    docs.lines_per_doc = static_cast<uint64_t>(a.get_int("lines-per-doc", 1, 1));
  }
  const int vocab_size = static_cast<int>(a.get_int("vocab-size", 4096, 1, INT32_MAX));
  o.val_fraction = a.get_double("val-fraction", 0.05, 0.0, 1.0, /*max_exclusive=*/true);
  o.seed = a.get_u64("seed", 2357);
  o.num_threads = static_cast<int>(a.get_int("threads", 0, 0, 65536));
  o.shard_tokens = a.get_u64("shard-tokens", o.shard_tokens);
  TTT_CHECK(o.shard_tokens >= 1 && o.shard_tokens <= static_cast<uint64_t>(INT32_MAX),
            "[tokenize] --shard-tokens: expected an integer in [1, 2147483647] (the .bin header count is int32); found \"",
            a.get("shard-tokens"), "\"");
  const std::string out = a.get("out");
  fs::create_directories(out);
  std::string model = a.get("tokenizer");
  if (model.empty()) {
    data::BpeTrainOptions bo;
    bo.vocab_size = vocab_size;
    std::printf("training a %d-token SentencePiece BPE on %zu files...\n", bo.vocab_size, a.positional().size());
    std::vector<std::string> bpe_inputs = a.positional();
    const std::string text = (fs::path(out) / "tokenizer_input.txt").string();
    if (docs.kind != data::DocKind::files) {  // sentencepiece reads lines of text, not JSON or separators: extract (<= 1 GB)
      data::write_documents_text(docs, text, 1ull << 30);
      bpe_inputs = {text};
    }
    model = data::train_bpe(bpe_inputs, (fs::path(out) / "tokenizer").string(), bo);
    fs::remove(text);
  }
  data::Tokenizer tok = data::Tokenizer::load(model);
  std::string fmt = a.get("format", "both");
  TTT_CHECK(fmt == "npy" || fmt == "bin" || fmt == "both", "[tokenize] --format: expected npy, bin or both, got \"", fmt, "\"");
  o.write_npy = fmt != "bin";
  o.write_bin = fmt != "npy";
  const bool quiet = a.flag("quiet"), tty = ::isatty(STDOUT_FILENO);
  int last_decile = -1;
  o.progress = [quiet, tty, &last_decile](uint64_t done, uint64_t total) {
    if (quiet) return;
    const double pct = 100.0 * static_cast<double>(done) / static_cast<double>(std::max<uint64_t>(total, 1));
    if (tty) {
      std::printf("\rtokenizing: %.1f / %.1f MB (%.0f%%)", done / 1e6, total / 1e6, pct);
    } else if (static_cast<int>(pct / 10) > last_decile) {  // a line per 10% when logging to a file
      last_decile = static_cast<int>(pct / 10);
      std::printf("tokenizing: %.1f / %.1f MB (%.0f%%)\n", done / 1e6, total / 1e6, pct);
    }
    std::fflush(stdout);
  };
  data::TokenizeResult r = data::tokenize_documents(tok, docs, out, o);
  if (!quiet && tty) std::printf("\n");
  for (const auto& f : r.removed)
    std::printf("removed %s: an output of an earlier tokenize that this run does not write\n", f.c_str());
  std::printf("%llu train tokens, %llu validation tokens (%llu of %llu documents held out); tokenizer %s; files in %s\n",
              static_cast<unsigned long long>(r.train_tokens), static_cast<unsigned long long>(r.val_tokens),
              static_cast<unsigned long long>(r.val_docs), static_cast<unsigned long long>(r.num_docs), model.c_str(),
              out.c_str());
  return 0;
}

int run_command(const std::string& cmd, int argc, char** argv) {
  if (cmd == "train") return cmd_train(argc, argv);
  if (cmd == "eval") return cmd_eval(argc, argv);
  if (cmd == "generate") return cmd_generate(argc, argv);
  if (cmd == "tokenize") return cmd_tokenize(argc, argv);
  if (cmd == "info") return cmd_info(argc, argv);
  if (cmd == "config") return cmd_config(argc, argv);
  if (cmd == "init") return cmd_init(argc, argv);
  if (cmd == "export") return cmd_export(argc, argv);
  if (cmd == "import") return cmd_import(argc, argv);
  if (cmd == "version") {
    std::printf("tttlm 0.1 (C++20%s)\n", cuda_build_enabled() ? ", CUDA backend" : ", CPU only");
    return 0;
  }
  throw InvalidArgument("unknown command \"" + cmd + "\"; run `tttlm help` for the list");
}

}  // namespace tttlm::apps
