#include "train/run_config.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/config_reader.h"
#include "core/text_file.h"

namespace tttlm::train {

namespace fs = std::filesystem;

namespace {
void merge(nlohmann::json& base, const nlohmann::json& over) {
  for (auto it = over.begin(); it != over.end(); ++it) {
    if (it->is_object() && base.contains(it.key()) && base[it.key()].is_object())
      merge(base[it.key()], *it);
    else
      base[it.key()] = *it;
  }
}

// Range checks of the keys the section readers do not check themselves: every value a run can be handed,
// so that a nonsense value is refused up front rather than diverging, dividing by zero or hanging later.
template <class T>
std::string text(T v) {
  std::ostringstream s;
  s << v;
  return s.str();
}
template <class T>
std::string found(T v) {
  return "; found " + text(v);
}

void check_ranges(const RunConfig& c, const ConfigReader& d, const ConfigReader& t, const ConfigReader& o,
                  const ConfigReader& p, const ConfigReader& l) {
  if (c.data.prefetch < 0 || c.data.prefetch > 64)
    d.fail("prefetch", "expected an integer in [0, 64]" + found(c.data.prefetch));
  if (c.data.bos_id < 0) d.fail("bos_id", "expected an integer >= 0" + found(c.data.bos_id));
  if (c.train.eval_every < 0)
    t.fail("eval_every", "expected an integer >= 0 (0: only at the end)" + found(c.train.eval_every));
  if (c.train.eval_batches < 1) t.fail("eval_batches", "expected an integer >= 1" + found(c.train.eval_batches));
  if (c.train.checkpoint_every < 0)
    t.fail("checkpoint_every", "expected an integer >= 0 (0: only at the end)" + found(c.train.checkpoint_every));
  if (c.train.threads < 0 || c.train.threads > 4096)
    t.fail("threads", "expected an integer in [0, 4096] (0: all cores)" + found(c.train.threads));
  auto finite_at_least = [](const ConfigReader& r, const char* key, double v, double lo, bool strict) {
    if (!std::isfinite(v) || v < lo || (strict && v == lo))
      r.fail(key, std::string("expected a finite number ") + (strict ? "> " : ">= ") + text(lo) + found(v));
  };
  finite_at_least(o, "lr", c.optimizer.lr, 0, false);
  finite_at_least(o, "end_lr", c.optimizer.end_lr, 0, false);
  finite_at_least(o, "eps", c.optimizer.eps, 0, true);
  finite_at_least(o, "weight_decay", c.optimizer.weight_decay, 0, false);
  if (!std::isfinite(c.optimizer.clip_grad_norm))
    o.fail("clip_grad_norm", "expected a finite number" + found(c.optimizer.clip_grad_norm));
  for (auto [key, v] : {std::pair<const char*, double>{"beta1", c.optimizer.beta1}, {"beta2", c.optimizer.beta2}})
    if (!(v >= 0 && v < 1)) o.fail(key, "expected a number in [0, 1)" + found(v));
  finite_at_least(p, "bucket_mb", c.parallel.bucket_mb, 0, true);
  if (c.parallel.timeout_s < 1) p.fail("timeout_s", "expected an integer >= 1 (seconds)" + found(c.parallel.timeout_s));
  if (c.log.every < 0) l.fail("every", "expected an integer >= 0 (0: no progress lines)" + found(c.log.every));
  finite_at_least(l, "peak_gflops", c.log.peak_gflops, 0, false);
}

}  // namespace

nlohmann::json load_json_with_includes(const std::string& path, int depth) {
  TTT_CHECK(depth < 16, "[config] ", path, ": includes nested more than 16 deep (a cycle?)");
  std::error_code ec;  // the non-throwing overload: a path the OS refuses is reported by read_json_file
  TTT_CHECK(!fs::is_directory(path, ec), "[config] ", path, ": expected a JSON file; found a directory",
            depth > 0 ? " (an \"include\" must name a file)" : "");
  nlohmann::json j = read_json_file(path, "[config]", /*comments=*/true);
  TTT_CHECK(j.is_object(), "[config] ", path, ": the top level must be a JSON object");
  if (j.contains("include")) {
    TTT_CHECK(j["include"].is_string(), "[config] ", path, ": include: expected a path string");
    fs::path inc = fs::path(path).parent_path() / j["include"].get<std::string>();
    nlohmann::json base = load_json_with_includes(inc.string(), depth + 1);
    j.erase("include");
    merge(base, j);
    return base;
  }
  return j;
}

void apply_override(nlohmann::json& j, const std::string& assignment, const std::string& source) {
  auto eq = assignment.find('=');
  TTT_CHECK(eq != std::string::npos && eq > 0, "[config] --set ", assignment, ": expected KEY.PATH=VALUE");
  // JSON text is UTF-8. A key or string value that is not would make every later dump of the config (error
  // messages, the run's config.json, its hash) throw a raw nlohmann type_error: refuse it here.
  try {
    (void)nlohmann::json(assignment).dump();
  } catch (const nlohmann::json::type_error&) {
    throw InvalidArgument("[config] " + source + ": --set " +
                          nlohmann::json(assignment).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
                          ": expected UTF-8 text (JSON keys and strings are UTF-8); found invalid bytes");
  }
  std::string key = assignment.substr(0, eq), value = assignment.substr(eq + 1);
  nlohmann::json* node = &j;
  size_t start = 0;
  while (true) {
    auto dot = key.find('.', start);
    std::string part = key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (dot == std::string::npos) {
      nlohmann::json v;
      try {
        v = nlohmann::json::parse(value);
      } catch (...) {
        v = value;
      }
      (*node)[part] = v;
      break;
    }
    if (!node->contains(part)) (*node)[part] = nlohmann::json::object();
    TTT_CHECK((*node)[part].is_object(), "[config] ", source, ": --set ", key, ": ", part, " is not a section");
    node = &(*node)[part];
    start = dot + 1;
  }
}

RunConfig run_config_from_json(const nlohmann::json& merged, const std::string& source) {
  RunConfig c;
  c.source = source;
  c.input = merged;
  ConfigReader root(merged, "", source);
  root.allow("model");
  c.model =
      layers::ModelConfig::from_json(merged.contains("model") ? merged["model"] : nlohmann::json::object(), source);

  ConfigReader d = root.section("data");
  d.read("path", c.data.path);
  d.read("format", c.data.format);
  d.read("train_split", c.data.train_split);
  d.read("val_split", c.data.val_split);
  d.read("seq_len", c.data.seq_len);
  d.read("mask_bos", c.data.mask_bos);
  d.read("bos_id", c.data.bos_id);
  d.read("tokenizer", c.data.tokenizer);
  d.read("prefetch", c.data.prefetch);
  d.finish();
  if (c.data.format != "npy" && c.data.format != "bin")
    d.fail("format", "expected \"npy\" or \"bin\", got \"" + c.data.format + "\"");
  if (!d.has("seq_len")) c.data.seq_len = c.model.max_seq_len;
  if (c.data.seq_len <= 0) d.fail("seq_len", "expected a positive integer");
  if (c.data.seq_len > c.model.max_seq_len)
    d.fail("seq_len", "expected <= model.max_seq_len " + std::to_string(c.model.max_seq_len) + ", got " +
                          std::to_string(c.data.seq_len));
  if (layers::is_ttt(c.model.kind) && c.data.seq_len % c.model.mini_batch_size != 0)
    d.fail("seq_len", "expected a multiple of model.mini_batch_size " + std::to_string(c.model.mini_batch_size) +
                          ", got " + std::to_string(c.data.seq_len));

  ConfigReader t = root.section("train");
  t.read("global_batch_size", c.train.global_batch_size);
  t.read("micro_batch_size", c.train.micro_batch_size);
  t.read("total_steps", c.train.total_steps);
  t.read("seed", c.train.seed);
  t.read("precision", c.train.precision);
  t.read("device", c.train.device);
  t.read("eval_every", c.train.eval_every);
  t.read("eval_batches", c.train.eval_batches);
  t.read("checkpoint_every", c.train.checkpoint_every);
  t.read("keep_last", c.train.keep_last);
  t.read("run_dir", c.train.run_dir);
  t.read("threads", c.train.threads);
  t.read("skip_memory_check", c.train.skip_memory_check);
  t.finish();
  if (c.train.global_batch_size <= 0) t.fail("global_batch_size", "expected a positive integer");
  if (c.train.micro_batch_size <= 0) t.fail("micro_batch_size", "expected a positive integer");
  if (c.train.global_batch_size % c.train.micro_batch_size != 0)
    t.fail("micro_batch_size", "expected a divisor of global_batch_size " + std::to_string(c.train.global_batch_size) +
                                   ", got " + std::to_string(c.train.micro_batch_size));
  if (c.train.total_steps <= 0) t.fail("total_steps", "expected a positive integer");
  // The precision decides the matmul inputs (docs/precision.md); anything else is refused here, before any file is
  // written.
  if (c.train.precision != "fp32" && c.train.precision != "bf16")
    t.fail("precision", "expected \"fp32\" or \"bf16\", got \"" + c.train.precision + "\"");
  if (c.train.device != "cpu" && c.train.device != "cuda")
    t.fail("device", "expected \"cpu\" or \"cuda\", got \"" + c.train.device + "\"");
  if (c.train.keep_last < 1) t.fail("keep_last", "expected >= 1");
  if (c.train.run_dir.empty()) c.train.run_dir = "runs/" + fs::path(source).stem().string();

  ConfigReader o = root.section("optimizer");
  o.read("lr", c.optimizer.lr);
  o.read("end_lr", c.optimizer.end_lr);
  o.read("warmup_steps", c.optimizer.warmup_steps);
  o.read("decay_steps", c.optimizer.decay_steps);
  o.read("beta1", c.optimizer.beta1);
  o.read("beta2", c.optimizer.beta2);
  o.read("eps", c.optimizer.eps);
  o.read("weight_decay", c.optimizer.weight_decay);
  o.read("clip_grad_norm", c.optimizer.clip_grad_norm);
  o.finish();
  if (c.optimizer.decay_steps == 0) c.optimizer.decay_steps = c.train.total_steps;
  if (c.optimizer.warmup_steps < 0 || c.optimizer.warmup_steps >= c.optimizer.decay_steps)
    o.fail("warmup_steps", "expected 0 <= warmup_steps < decay_steps " + std::to_string(c.optimizer.decay_steps));

  ConfigReader p = root.section("parallel");
  p.read("backend", c.parallel.backend);
  p.read("zero1", c.parallel.zero1);
  p.read("bucket_mb", c.parallel.bucket_mb);
  p.read("timeout_s", c.parallel.timeout_s);
  p.finish();
  if (c.parallel.backend != "auto" && c.parallel.backend != "single" && c.parallel.backend != "mpi" &&
      c.parallel.backend != "nccl")
    p.fail("backend", "expected auto, single, mpi or nccl, got \"" + c.parallel.backend + "\"");

  ConfigReader l = root.section("log");
  l.read("every", c.log.every);
  l.read("progress", c.log.progress);
  l.read("peak_gflops", c.log.peak_gflops);
  l.finish();
  check_ranges(c, d, t, o, p, l);
  root.finish();
  c.resolved = c.to_json();
  return c;
}

RunConfig load_run_config(const std::string& path, const std::vector<std::string>& overrides) {
  nlohmann::json j = load_json_with_includes(path);
  for (const auto& o : overrides) apply_override(j, o, path);
  return run_config_from_json(j, path);
}

int64_t RunConfig::accumulation_steps(int64_t world_size) const {
  int64_t per_rank_step = train.micro_batch_size * world_size;
  TTT_CHECK(train.global_batch_size % per_rank_step == 0, "[config] ", source, ": train.global_batch_size ",
            train.global_batch_size, " is not divisible by micro_batch_size ", train.micro_batch_size, " x world size ",
            world_size);
  return train.global_batch_size / per_rank_step;
}

std::string RunConfig::hash() const {
  uint64_t h = 14695981039346656037ull;  // FNV-1a 64 offset basis
  for (unsigned char ch : to_json().dump()) {
    h ^= ch;
    h *= 1099511628211ull;  // FNV-1a 64 prime
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

const std::vector<std::string>& derived_keys() {
  static const std::vector<std::string> keys = {"optimizer.decay_steps", "data.seq_len"};
  return keys;
}

nlohmann::json RunConfig::to_json() const {
  return {{"model", model.to_json()},
          {"data",
           {{"path", data.path},
            {"format", data.format},
            {"train_split", data.train_split},
            {"val_split", data.val_split},
            {"seq_len", data.seq_len},
            {"mask_bos", data.mask_bos},
            {"bos_id", data.bos_id},
            {"tokenizer", data.tokenizer},
            {"prefetch", data.prefetch}}},
          {"train",
           {{"global_batch_size", train.global_batch_size},
            {"micro_batch_size", train.micro_batch_size},
            {"total_steps", train.total_steps},
            {"seed", train.seed},
            {"precision", train.precision},
            {"device", train.device},
            {"eval_every", train.eval_every},
            {"eval_batches", train.eval_batches},
            {"checkpoint_every", train.checkpoint_every},
            {"keep_last", train.keep_last},
            {"run_dir", train.run_dir},
            {"threads", train.threads},
            {"skip_memory_check", train.skip_memory_check}}},
          {"optimizer",
           {{"lr", optimizer.lr},
            {"end_lr", optimizer.end_lr},
            {"warmup_steps", optimizer.warmup_steps},
            {"decay_steps", optimizer.decay_steps},
            {"beta1", optimizer.beta1},
            {"beta2", optimizer.beta2},
            {"eps", optimizer.eps},
            {"weight_decay", optimizer.weight_decay},
            {"clip_grad_norm", optimizer.clip_grad_norm}}},
          {"parallel",
           {{"backend", parallel.backend},
            {"zero1", parallel.zero1},
            {"bucket_mb", parallel.bucket_mb},
            {"timeout_s", parallel.timeout_s}}},
          {"log", {{"every", log.every}, {"progress", log.progress}, {"peak_gflops", log.peak_gflops}}}};
}

}  // namespace tttlm::train
