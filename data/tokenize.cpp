// The streaming tokenize loop (read a batch of documents, encode it in parallel into per-document slots,
// write the slots in input order) and the validation split rule.
#include "data/tokenize.h"

#include <atomic>
#include <cmath>
#include <exception>
#include <filesystem>
#include <mutex>
#include <thread>

#include "core/error.h"
#include "core/philox.h"
#include "data/split_writer.h"

namespace tttlm::data {

namespace fs = std::filesystem;

namespace {

constexpr uint64_t kSplitPurpose = 0x76616c2d73706c74ull;  // "val-splt"

// The high 64 bits of the 128-bit product a * b.
uint64_t mulhi64(uint64_t a, uint64_t b) {
  const uint64_t a_lo = a & 0xffffffffu, a_hi = a >> 32, b_lo = b & 0xffffffffu, b_hi = b >> 32;
  const uint64_t lo_lo = a_lo * b_lo, hi_lo = a_hi * b_lo, lo_hi = a_lo * b_hi, hi_hi = a_hi * b_hi;
  const uint64_t mid = (lo_lo >> 32) + (hi_lo & 0xffffffffu) + lo_hi;
  return hi_hi + (hi_lo >> 32) + (mid >> 32);
}

// Encodes batch[k] into ids[k] as [BOS] ids [EOS] with up to n_threads threads (a shared counter over
// the batch; each result has its own slot, so the output does not depend on scheduling).
void encode_batch(const Tokenizer& tokenizer, const std::vector<Document>& batch, size_t count,
                  std::vector<std::vector<int32_t>>& ids, size_t n_threads) {
  const int32_t bos = tokenizer.bos_id(), eos = tokenizer.eos_id();
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex mutex;
  auto worker = [&] {
    while (!failed) {
      size_t k = next.fetch_add(1);
      if (k >= count) break;
      try {
        std::vector<int32_t> enc = tokenizer.encode(batch[k].text);
        auto& doc = ids[k];
        doc.clear();
        doc.reserve(enc.size() + 2);
        doc.push_back(bos);
        doc.insert(doc.end(), enc.begin(), enc.end());
        if (!batch[k].text.empty()) doc.push_back(eos);  // official: "</s>" is appended to non-empty texts only
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!error) error = std::current_exception();
        failed = true;
      }
    }
  };
  n_threads = std::min(n_threads, count);
  std::vector<std::thread> pool;
  for (size_t t = 1; t < n_threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace

ValidationSplit::ValidationSplit(uint64_t num_docs, double fraction, uint64_t seed) : n_(num_docs), seed_(seed) {
  TTT_CHECK(fraction >= 0.0 && fraction < 1.0, "[tokenize] val_fraction must be in [0, 1); got ", fraction);
  n_val_ = static_cast<uint64_t>(std::ceil(fraction * static_cast<double>(num_docs)));
  TTT_CHECK(n_val_ == 0 || n_val_ < num_docs, "[tokenize] val_fraction ", fraction, " of ", num_docs,
            " documents holds out ", n_val_,
            " and leaves no training document; give more documents or a smaller fraction");
}

bool ValidationSplit::held_out(uint64_t index) {
  TTT_CHECK_RT(index == next_ && index < n_, "[tokenize] internal: validation split asked for document ", index, " of ",
               n_, "; expected document ", next_);
  ++next_;
  if (chosen_ == n_val_) return false;
  auto r = philox::philox4x32(index, kSplitPurpose, seed_);
  const uint64_t u = (static_cast<uint64_t>(r.x[1]) << 32) | r.x[0];
  const uint64_t scaled = mulhi64(u, n_ - index);  // floor(u * (N - i) / 2^64), uniform in [0, N - i)
  if (scaled >= n_val_ - chosen_) return false;
  ++chosen_;
  return true;
}

std::vector<uint64_t> pick_validation_docs(uint64_t num_docs, double fraction, uint64_t seed) {
  ValidationSplit split(num_docs, fraction, seed);
  std::vector<uint64_t> out;
  for (uint64_t i = 0; i < num_docs && out.size() < split.num_val(); ++i)
    if (split.held_out(i)) out.push_back(i);
  return out;
}

TokenizeResult tokenize_documents(const Tokenizer& tokenizer, const DocumentSpec& docs, const std::string& out_dir,
                                  const TokenizeOptions& options) {
  TTT_CHECK(!docs.inputs.empty(), "[tokenize] expected at least one input file; got none");
  TTT_CHECK(options.write_npy || options.write_bin, "[tokenize] no output format selected (write_npy and write_bin ",
            "are both off)");
  TTT_CHECK(options.shard_tokens >= 1 && options.shard_tokens <= static_cast<uint64_t>(INT32_MAX),
            "[tokenize] shard_tokens must be in [1, 2^31-1] (the .bin header count is int32); got ",
            options.shard_tokens);
  TTT_CHECK(options.batch_docs >= 1, "[tokenize] batch_docs must be >= 1; got 0");
  const int32_t bos = tokenizer.bos_id(), eos = tokenizer.eos_id(), vocab = tokenizer.vocab_size();
  TTT_CHECK(bos >= 0 && eos >= 0, "[tokenize] the tokenizer ", tokenizer.path(), " must define BOS and EOS; it has ",
            "bos_id ", bos, ", eos_id ", eos);
  TTT_CHECK(!options.write_bin || vocab <= 65536, "[tokenize] the .bin format holds uint16 ids, but ", tokenizer.path(),
            " has ", vocab, " ids; write npy only");
  TokenizeResult result;
  auto source = open_documents(docs);  // checks the inputs before the counting pass
  result.num_docs = count_documents(docs);
  TTT_CHECK(result.num_docs > 0, "[tokenize] the inputs hold no document (", doc_kind_name(docs.kind), ")");
  ValidationSplit split(result.num_docs, options.val_fraction, options.seed);

  fs::path dir(out_dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  TTT_CHECK_RT(fs::is_directory(dir), "[tokenize] cannot create the output directory ", out_dir, ": ", ec.message());
  SplitWriterOptions wo{options.write_npy, options.write_bin, options.shard_tokens, options.bin_prefix};
  const Dtype npy_dtype = vocab < 65536 ? Dtype::u16 : Dtype::i32;
  SplitWriter train(dir, "train", "train", npy_dtype, wo);
  std::unique_ptr<SplitWriter> val;
  if (split.num_val() > 0) val = std::make_unique<SplitWriter>(dir, "validation", "val", npy_dtype, wo);

  size_t n_threads = options.num_threads > 0 ? static_cast<size_t>(options.num_threads)
                                             : std::max(1u, std::thread::hardware_concurrency());
  std::vector<Document> batch;
  std::vector<std::vector<int32_t>> ids;
  uint64_t index = 0, last_end = 0;
  for (bool more = true; more;) {
    // Fresh slots per batch: reused strings and vectors would keep the capacity of the largest document
    // each slot ever held, which over many batches is not bounded by one batch.
    batch.clear();
    ids.clear();
    size_t count = 0;
    uint64_t bytes = 0;
    while (count < options.batch_docs && (count == 0 || bytes < options.batch_bytes)) {
      if (batch.size() <= count) batch.emplace_back();
      if (!(more = source->next(batch[count]))) break;
      bytes += batch[count++].text.size();
    }
    if (count == 0) break;
    if (options.on_batch) options.on_batch(count, bytes);
    ids.resize(count);
    encode_batch(tokenizer, batch, count, ids, n_threads);
    for (size_t k = 0; k < count; ++k, ++index) {
      TTT_CHECK(index < result.num_docs, "[tokenize] the inputs changed while reading: counted ", result.num_docs,
                " documents, then found more at ", source->describe(batch[k]));
      bool held = split.held_out(index);
      (held ? *val : train).append(ids[k], source->describe(batch[k]));
      last_end = batch[k].input_end;
      if (options.progress) options.progress(last_end, source->total_bytes());
    }
  }
  // Trailing input that holds no document (blank lines, a final separator) still counts as read.
  if (options.progress && last_end != source->total_bytes())
    options.progress(source->total_bytes(), source->total_bytes());
  TTT_CHECK(index == result.num_docs, "[tokenize] the inputs changed while reading: counted ", result.num_docs,
            " documents, then read ", index);
  result.train_tokens = train.tokens();
  result.files = train.finish();
  if (val) {
    result.val_docs = split.num_val();
    result.val_tokens = val->tokens();
    std::vector<std::string> vf = val->finish();
    result.files.insert(result.files.end(), vf.begin(), vf.end());
    if (options.write_npy && options.npy_test_copy) {
      const std::string from = (dir / "validation.npy").string(), to = (dir / "test.npy").string();
      fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
      TTT_CHECK_RT(!ec, "[tokenize] cannot copy ", from, " to ", to, ": ", ec.message());
      result.files.push_back(to);
    }
  }
  result.removed = remove_stale_outputs(dir, result.files, options.bin_prefix);
  return result;
}

TokenizeResult tokenize_files(const Tokenizer& tokenizer, const std::vector<std::string>& files,
                              const std::string& out_dir, const TokenizeOptions& options) {
  DocumentSpec spec;
  spec.inputs = files;
  return tokenize_documents(tokenizer, spec, out_dir, options);
}

}  // namespace tttlm::data
