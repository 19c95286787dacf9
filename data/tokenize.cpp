// Parallel document encoding (a shared work counter over files; results stored by document index, so the
// output does not depend on scheduling) and the streaming writers of the .npy and .bin outputs.
#include "data/tokenize.h"

#include <atomic>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <thread>

#include "core/error.h"
#include "core/philox.h"
#include "data/mmap_file.h"
#include "data/npy.h"
#include "data/token_source.h"

namespace tttlm::data {

namespace fs = std::filesystem;

namespace {

constexpr uint64_t kSplitPurpose = 0x76616c2d73706c74ull;  // "val-splt"

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  TTT_CHECK(in.good(), "[tokenize] cannot open the input ", path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  TTT_CHECK_RT(!in.bad(), "[tokenize] error while reading ", path);
  return text;
}

std::string shard_name(const std::string& prefix, const std::string& tag, uint64_t index) {
  char num[32];
  std::snprintf(num, sizeof num, "%06llu", static_cast<unsigned long long>(index));
  return prefix + "_" + tag + "_" + num + ".bin";
}

// Writes one split's token stream, document after document, to train.npy-style and/or .bin outputs.
class SplitWriter {
 public:
  SplitWriter(const fs::path& dir,
              const std::string& npy_name,
              const std::string& bin_tag,
              uint64_t total,
              Dtype npy_dtype,
              const TokenizeOptions& opt,
              std::vector<std::string>& files)
      : dir_(dir), bin_tag_(bin_tag), total_(total), npy_dtype_(npy_dtype), opt_(opt), files_(files) {
    if (opt_.write_npy) {
      npy_path_ = (dir_ / (npy_name + ".npy")).string();
      npy_ = std::make_unique<OutputFile>(npy_path_);
      std::string header = npy_header_bytes(npy_dtype_, {static_cast<int64_t>(total_)});
      npy_->write(header.data(), header.size());
    }
  }

  void append(const std::vector<int32_t>& ids, const std::string& source) {
    bool narrow = opt_.write_bin || npy_dtype_ == Dtype::u16;
    if (narrow) {
      u16_.resize(ids.size());
      for (size_t i = 0; i < ids.size(); ++i) {
        TTT_CHECK(ids[i] >= 0 && ids[i] <= 65535,
                  "[tokenize] id ",
                  ids[i],
                  " at token ",
                  i,
                  " of document ",
                  source,
                  " does not fit uint16 (the .bin format and '<u2' .npy files hold ids in [0, 65535])");
        u16_[i] = static_cast<uint16_t>(ids[i]);
      }
    }
    if (npy_) {
      if (npy_dtype_ == Dtype::u16) {
        npy_->write(u16_.data(), u16_.size() * 2);
      } else {
        npy_->write(ids.data(), ids.size() * 4);
      }
    }
    if (opt_.write_bin) {
      size_t done = 0;
      while (done < u16_.size()) {
        if (!shard_) open_shard();
        uint64_t take = std::min<uint64_t>(u16_.size() - done, shard_size_ - shard_fill_);
        shard_->write(u16_.data() + done, take * 2);
        done += take;
        shard_fill_ += take;
        written_ += take;
        if (shard_fill_ == shard_size_) close_shard();
      }
    }
  }

  void finish() {
    if (npy_) {
      npy_->commit();
      files_.push_back(npy_path_);
    }
    if (opt_.write_bin) {
      TTT_CHECK_RT(!shard_ && written_ == total_,
                   "[tokenize] internal: wrote ",
                   written_,
                   " of ",
                   total_,
                   " tokens to .bin shards");
      remove_stale_shards();
    }
  }
  const std::string& npy_path() const { return npy_path_; }

 private:
  void open_shard() {
    shard_size_ = std::min(opt_.shard_tokens, total_ - written_);
    shard_path_ = (dir_ / shard_name(opt_.bin_prefix, bin_tag_, shard_index_)).string();
    shard_ = std::make_unique<OutputFile>(shard_path_);
    std::string header = bin_header_bytes(shard_size_);
    shard_->write(header.data(), header.size());
    shard_fill_ = 0;
  }
  void close_shard() {
    shard_->commit();
    shard_.reset();
    files_.push_back(shard_path_);
    ++shard_index_;
  }
  // Shards "<prefix>_<tag>_NNNNNN.bin" with NNNNNN >= the count just written belong to an earlier run;
  // a glob over the directory would pick them up as part of this split.
  void remove_stale_shards() {
    std::error_code ec;
    const std::string head = opt_.bin_prefix + "_" + bin_tag_ + "_";
    for (const auto& e : fs::directory_iterator(dir_, ec)) {
      std::string name = e.path().filename().string();
      if (name.size() != head.size() + 10 || name.compare(0, head.size(), head) != 0 ||
          name.compare(name.size() - 4, 4, ".bin") != 0)
        continue;
      std::string digits = name.substr(head.size(), 6);
      if (digits.find_first_not_of("0123456789") != std::string::npos) continue;
      if (std::stoull(digits) >= shard_index_) fs::remove(e.path(), ec);
    }
  }

  fs::path dir_;
  std::string bin_tag_;
  uint64_t total_;
  Dtype npy_dtype_;
  const TokenizeOptions& opt_;
  std::vector<std::string>& files_;
  std::vector<uint16_t> u16_;
  std::string npy_path_, shard_path_;
  std::unique_ptr<OutputFile> npy_, shard_;
  uint64_t shard_index_ = 0, shard_size_ = 0, shard_fill_ = 0, written_ = 0;
};

}  // namespace

std::vector<size_t> pick_validation_docs(size_t num_docs, double fraction, uint64_t seed) {
  TTT_CHECK(fraction >= 0.0 && fraction < 1.0, "[tokenize] val_fraction must be in [0, 1); got ", fraction);
  size_t n_val = static_cast<size_t>(std::ceil(fraction * static_cast<double>(num_docs)));
  if (n_val == 0) return {};
  TTT_CHECK(
      n_val < num_docs,
      "[tokenize] val_fraction ",
      fraction,
      " of ",
      num_docs,
      " documents holds out ",
      n_val,
      " and leaves no training document; give more documents (one per input file) or a smaller fraction");
  std::vector<size_t> perm(num_docs);
  for (size_t i = 0; i < num_docs; ++i) perm[i] = i;
  for (size_t i = num_docs - 1; i > 0; --i) {
    // A 64-bit draw reduced modulo i+1; the bias is below (i+1) / 2^64.
    auto r = philox::philox4x32(i, kSplitPurpose, seed);
    uint64_t u = (static_cast<uint64_t>(r.x[1]) << 32) | r.x[0];
    std::swap(perm[i], perm[u % (i + 1)]);
  }
  std::vector<size_t> val(perm.begin(), perm.begin() + static_cast<std::ptrdiff_t>(n_val));
  std::sort(val.begin(), val.end());
  return val;
}

TokenizeResult tokenize_files(const Tokenizer& tokenizer,
                              const std::vector<std::string>& files,
                              const std::string& out_dir,
                              const TokenizeOptions& options) {
  TTT_CHECK(!files.empty(), "[tokenize] expected at least one input file; got none");
  TTT_CHECK(options.write_npy || options.write_bin,
            "[tokenize] no output format selected (write_npy and write_bin ",
            "are both off)");
  TTT_CHECK(options.shard_tokens >= 1 && options.shard_tokens <= static_cast<uint64_t>(INT32_MAX),
            "[tokenize] shard_tokens must be in [1, 2^31-1] (the .bin header count is int32); got ",
            options.shard_tokens);
  const int32_t bos = tokenizer.bos_id(), eos = tokenizer.eos_id(), vocab = tokenizer.vocab_size();
  TTT_CHECK(bos >= 0 && eos >= 0,
            "[tokenize] the tokenizer ",
            tokenizer.path(),
            " must define BOS and EOS; it has ",
            "bos_id ",
            bos,
            ", eos_id ",
            eos);
  TTT_CHECK(!options.write_bin || vocab <= 65536,
            "[tokenize] the .bin format holds uint16 ids, but ",
            tokenizer.path(),
            " has ",
            vocab,
            " ids; write npy only");
  TokenizeResult result;
  result.val_docs = pick_validation_docs(files.size(), options.val_fraction, options.seed);

  uint64_t bytes_total = 0;
  for (const auto& f : files) {
    std::error_code ec;
    uint64_t size = fs::file_size(f, ec);
    TTT_CHECK(!ec, "[tokenize] cannot read the input ", f, ": ", ec.message());
    bytes_total += size;
  }

  // Encode, one document per task; docs[i] is document i's [BOS] ids [EOS].
  std::vector<std::vector<int32_t>> docs(files.size());
  std::atomic<size_t> next_doc{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex mutex;  // guards error, bytes_done and the progress callback
  uint64_t bytes_done = 0;
  auto worker = [&] {
    while (!failed) {
      size_t i = next_doc.fetch_add(1);
      if (i >= files.size()) break;
      try {
        std::string text = read_text(files[i]);
        std::vector<int32_t> ids = tokenizer.encode(text);
        auto& doc = docs[i];
        doc.reserve(ids.size() + 2);
        doc.push_back(bos);
        doc.insert(doc.end(), ids.begin(), ids.end());
        if (!text.empty()) doc.push_back(eos);  // official: "</s>" is appended to non-empty texts only
        std::lock_guard<std::mutex> lock(mutex);
        bytes_done += text.size();
        if (options.progress) options.progress(bytes_done, bytes_total);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!error) error = std::current_exception();
        failed = true;
      }
    }
  };
  size_t n_threads = options.num_threads > 0 ? static_cast<size_t>(options.num_threads)
                                             : std::max(1u, std::thread::hardware_concurrency());
  n_threads = std::min(n_threads, files.size());
  std::vector<std::thread> pool;
  for (size_t t = 1; t < n_threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);

  // Write both splits, documents in input order.
  std::vector<bool> is_val(files.size(), false);
  for (size_t i : result.val_docs) is_val[i] = true;
  for (size_t i = 0; i < files.size(); ++i)
    (is_val[i] ? result.val_tokens : result.train_tokens) += docs[i].size();
  fs::path dir(out_dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  TTT_CHECK_RT(
      fs::is_directory(dir), "[tokenize] cannot create the output directory ", out_dir, ": ", ec.message());
  const Dtype npy_dtype = vocab < 65536 ? Dtype::u16 : Dtype::i32;
  for (bool val : {false, true}) {
    uint64_t total = val ? result.val_tokens : result.train_tokens;
    if (val && result.val_docs.empty()) break;
    SplitWriter w(
        dir, val ? "validation" : "train", val ? "val" : "train", total, npy_dtype, options, result.files);
    for (size_t i = 0; i < files.size(); ++i)
      if (is_val[i] == val) w.append(docs[i], files[i]);
    w.finish();
    if (val && options.write_npy && options.npy_test_copy) {
      std::string test_path = (dir / "test.npy").string();
      fs::copy_file(w.npy_path(), test_path, fs::copy_options::overwrite_existing, ec);
      TTT_CHECK_RT(!ec, "[tokenize] cannot copy ", w.npy_path(), " to ", test_path, ": ", ec.message());
      result.files.push_back(test_path);
    }
  }
  return result;
}

}  // namespace tttlm::data
