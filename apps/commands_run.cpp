// Run commands: train, eval, generate, tokenize; each declares its arguments (apps/cli.h) next to its body.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

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
#include "train/run_dir.h"
#include "train/stop_signal.h"
#include "train/model_io.h"
#include "train/trainer.h"

namespace tttlm::apps {

namespace fs = std::filesystem;

namespace {

int run_train(const ParsedArgs& a) {
  train::TrainOptions o;
  o.config_path = a.positional(0);
  o.overrides = a.all("set");
  o.resume = a.flag("resume");
  o.overwrite = a.flag("overwrite");
  o.quiet = a.flag("quiet");
  train::install_stop_handlers();  // before MPI_Init and OpenMP start threads, which inherit the blocked signals
  const train::RunConfig cfg = train::resolve_run_config(o.config_path, o.overrides);  // once, for both
  auto comm = train::make_communicator(cfg);
  train::TrainResult r;
  try {
    r = train::run_training(cfg, o, *comm);
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

int run_eval(const ParsedArgs& a) {
  if (a.has("tokens") != a.has("dump-logits"))
    throw UsageError("[eval] --tokens IDS.npy and --dump-logits OUT.npy go together");
  const Device device = a.device("device");
  const std::string ckpt = a.positional(0);
  train::LoadedModel m = train::load_model(ckpt, device);
  autograd::NoGradGuard ng;
  if (a.has("tokens")) {
    Tensor ids = data::read_npy(a.text("tokens"));
    TTT_CHECK(ids.ndim() == 2 && (ids.dtype() == Dtype::i32 || ids.dtype() == Dtype::i64), "[eval] ", a.text("tokens"),
              ": expected int32 or int64 ids of shape [batch, seq], got ", ids.describe());
    Tensor logits = ops::to(m.model->forward(ops::to(ids, device)), cpu_device());
    data::write_npy(a.text("dump-logits"), ops::contiguous(logits));
    std::printf("wrote logits %s to %s\n", shape_str(logits.shape()).c_str(), a.text("dump-logits").c_str());
    return 0;
  }
  // Split evaluation needs the data section of the run's config (or --data DIR).
  const std::string cfg = train::run_config_path(ckpt);
  TTT_CHECK(!cfg.empty() || a.has("data"), "[eval] ", ckpt, " is not inside a run directory; pass --data DIR");
  train::RunConfig rc = !cfg.empty() ? train::load_run_config(cfg) : train::RunConfig{};
  rc.model = m.config;
  if (a.has("data")) rc.data.path = a.text("data");
  if (rc.data.seq_len > rc.model.max_seq_len) rc.data.seq_len = rc.model.max_seq_len;
  const int64_t bs = a.has("batch-size") ? a.integer("batch-size") : rc.train.micro_batch_size;
  const std::string split = a.has("split") ? a.text("split") : rc.data.val_split;
  train::EvalData data(rc, split, bs);
  const int64_t batches = a.has("batches") ? a.integer("batches") : data.num_batches();
  train::EvalResult r = train::evaluate(*m.model, data, batches, device);
  if (a.flag("json")) {
    std::printf(
        "%s\n",
        nlohmann::json{
            {"loss", r.loss}, {"perplexity", r.perplexity}, {"tokens", r.tokens}, {"loss_per_position", r.per_position}}
            .dump()
            .c_str());
    return 0;
  }
  std::printf("%s on %s: loss %.4f, perplexity %.2f over %lld tokens (%lld batches of %lld x %lld)\n", ckpt.c_str(),
              split.c_str(), r.loss, r.perplexity, static_cast<long long>(r.tokens),
              static_cast<long long>(std::min(batches, data.num_batches())), static_cast<long long>(bs),
              static_cast<long long>(rc.data.seq_len));
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

int run_generate(const ParsedArgs& a) {
  const std::string ck = a.positional(0);
  train::SamplingOptions sampling;
  sampling.temperature = a.number("temperature");
  sampling.top_k = a.integer("top-k");
  sampling.top_p = a.number("top-p");
  sampling.seed = a.u64("seed");
  train::LoadedModel m = train::load_model(ck, a.device("device"));
  std::string tok_path = a.has("tokenizer") ? a.text("tokenizer") : "";
  if (tok_path.empty()) {
    const std::string cfg = train::run_config_path(ck);
    if (!cfg.empty()) tok_path = train::load_run_config(cfg).data.tokenizer;
  }
  TTT_CHECK(!tok_path.empty(),
            "[generate] no tokenizer: pass --tokenizer MODEL (or set data.tokenizer in the run's config)");
  data::Tokenizer tok = data::Tokenizer::load(tok_path);
  const std::string prompt = a.has("prompt") ? a.text("prompt") : "";
  std::printf("%s\n", train::generate_text(*m.model, tok, prompt, a.integer("max-tokens"), sampling).c_str());
  return 0;
}

int run_tokenize(const ParsedArgs& a) {
  data::TokenizeOptions o;
  // Documents: one per file; JSONL lines (--jsonl, or every input named *.jsonl); pieces between
  // --doc-separator STR (\n, \t and \\ are unescaped); blocks of --lines-per-doc N lines.
  data::DocumentSpec docs;
  docs.inputs = a.positionals();
  const bool all_jsonl = std::all_of(docs.inputs.begin(), docs.inputs.end(),
                                     [](const std::string& f) { return fs::path(f).extension() == ".jsonl"; });
  const bool jsonl = a.flag("jsonl") || all_jsonl;
  const int modes = jsonl + a.has("doc-separator") + a.has("lines-per-doc");
  if (modes > 1)
    throw UsageError("[tokenize] choose one of --jsonl (or *.jsonl inputs), --doc-separator and --lines-per-doc");
  if (jsonl) docs.kind = data::DocKind::jsonl;
  if (a.has("text-field") && !jsonl) throw UsageError("[tokenize] --text-field applies to JSONL input only");
  docs.text_field = a.text("text-field");
  if (a.has("doc-separator")) {
    docs.kind = data::DocKind::separator;
    const std::string raw = a.text("doc-separator");
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
    docs.lines_per_doc = static_cast<uint64_t>(a.integer("lines-per-doc"));
  }
  const int vocab_size = static_cast<int>(a.integer("vocab-size"));
  o.val_fraction = a.number("val-fraction");
  o.seed = a.u64("seed");
  o.num_threads = static_cast<int>(a.integer("threads"));
  o.shard_tokens = static_cast<uint64_t>(a.integer("shard-tokens"));
  const std::string out = a.text("out");
  fs::create_directories(out);
  std::string model = a.has("tokenizer") ? a.text("tokenizer") : "";
  if (model.empty()) {
    data::BpeTrainOptions bo;
    bo.vocab_size = vocab_size;
    std::printf("training a %d-token SentencePiece BPE on %zu files...\n", bo.vocab_size, a.positionals().size());
    std::vector<std::string> bpe_inputs = a.positionals();
    const std::string text = (fs::path(out) / "tokenizer_input.txt").string();
    if (docs.kind !=
        data::DocKind::files) {  // sentencepiece reads lines of text, not JSON or separators: extract (<= 1 GB)
      data::write_documents_text(docs, text, 1ull << 30);
      bpe_inputs = {text};
    }
    model = data::train_bpe(bpe_inputs, (fs::path(out) / "tokenizer").string(), bo);
    fs::remove(text);
  }
  data::Tokenizer tok = data::Tokenizer::load(model);
  const std::string fmt = a.text("format");
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
  std::printf(
      "%llu train tokens, %llu validation tokens (%llu of %llu documents held out); tokenizer %s; files in %s\n",
      static_cast<unsigned long long>(r.train_tokens), static_cast<unsigned long long>(r.val_tokens),
      static_cast<unsigned long long>(r.val_docs), static_cast<unsigned long long>(r.num_docs), model.c_str(),
      out.c_str());
  return 0;
}

}  // namespace

Command train_command() {
  Command c("train", "train from a JSON config, or continue a run where its latest checkpoint stopped");
  c.arg("CONFIG", "a JSON config (docs/config.md); with --resume, a run directory");
  c.flag("resume", "continue the run directory CONFIG exactly where its latest checkpoint stopped");
  c.text("set", "KEY=VALUE", "override a config key, e.g. --set train.total_steps=200").many();
  c.flag("overwrite", "remove an existing run in train.run_dir first (without it such a run is refused)");
  c.flag("quiet", "no progress line and no summary");
  c.details = {"The run directory is train.run_dir (default runs/<config file stem>)."};
  c.run = run_train;
  return c;
}

Command eval_command() {
  Command c("eval", "loss and perplexity of a model on a split, or its logits for given token ids");
  c.arg("CKPT", "a model, checkpoint (RUN/checkpoints/step_N) or run directory (its latest checkpoint)");
  c.text("split", "NAME", "the split to evaluate (default: data.val_split of the run's config)");
  c.integer("batches", "N", "batches to evaluate (default: the whole split)", 1);
  c.integer("batch-size", "B", "sequences per batch (default: train.micro_batch_size)", 1);
  c.text("data", "DIR", "the tokenized data folder (default: data.path of the run's config)");
  c.flag("per-position", "also print the loss by position in the sequence");
  c.flag("json", "print one JSON object: loss, perplexity, tokens, loss_per_position");
  c.text("tokens", "IDS.npy", "int32 or int64 token ids [batch, seq]: write their logits instead (with --dump-logits)");
  c.text("dump-logits", "OUT.npy", "where --tokens writes the f32 logits [batch, seq, vocab]");
  c.device("device", "where the model runs").def("cpu");
  c.run = run_eval;
  return c;
}

Command generate_command() {
  Command c("generate", "sample a continuation of a prompt");
  c.arg("CKPT", "a model, checkpoint or run directory");
  c.text("prompt", "TEXT", "the text to continue (default: none, start from BOS)");
  c.integer("max-tokens", "N", "tokens to generate", 1).def("64");
  c.number("temperature", "T", "sampling temperature (0: greedy)", 0.0, 1e6).def("0.8");
  c.integer("top-k", "K", "sample among the K most likely tokens only (0: all)", 0).def("0");
  c.number("top-p", "P", "sample among the most likely tokens whose probabilities sum to P (1: all)", 1e-9, 1.0)
      .def("1");
  c.u64("seed", "S", "sampling seed").def("0");
  c.text("tokenizer", "MODEL", "a SentencePiece model (default: data.tokenizer of the run's config)");
  c.device("device", "where the model runs").def("cpu");
  c.run = run_generate;
  return c;
}

Command tokenize_command() {
  Command c("tokenize", "tokenize text files into train and validation token files");
  c.arg("FILES", "UTF-8 text files: one document per file, unless --jsonl, --doc-separator or --lines-per-doc", true,
        true);
  c.text("out", "DIR", "the output folder").req();
  c.choice("format", "the token file format", {"npy", "bin", "both"}).def("both");
  c.text("tokenizer", "MODEL", "a SentencePiece model (default: train a BPE on FILES into DIR/tokenizer.model)");
  c.integer("vocab-size", "N", "vocabulary size of the BPE trained when no --tokenizer is given", 1, INT32_MAX)
      .def("4096");
  c.number("val-fraction", "F", "the fraction of documents held out for validation", 0.0, 1.0, true).def("0.05");
  c.u64("seed", "S", "the seed of the validation split").def("2357");
  c.integer("threads", "N", "tokenizer threads (0: all cores)", 0, 65536).def("0");
  c.integer("shard-tokens", "N", "tokens per .bin shard (the .bin header count is int32)", 1, INT32_MAX)
      .def("100000000");
  c.flag("jsonl", "FILES are JSON Lines, one document per line (implied when every file ends in .jsonl)");
  c.text("text-field", "KEY", "the JSONL field holding the text").def("text");
  c.text("doc-separator", "STR", "split FILES into documents at STR (\\n, \\t and \\\\ unescaped; e.g. '\\n\\n')");
  c.integer("lines-per-doc", "N", "split FILES into documents of N lines", 1);
  c.flag("quiet", "no progress line");
  c.run = run_tokenize;
  return c;
}

}  // namespace tttlm::apps
