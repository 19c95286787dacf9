// Streaming tokenize: the output does not depend on batch size or threads, equals the documents encoded
// one by one, batches stay within their bounds, peak memory does not grow with the corpus, and a
// re-tokenize into the same folder leaves no output of the earlier run behind.
#include <sys/resource.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "data/token_source.h"
#include "data/tokenize.h"
#include "data_fixtures.h"

using namespace tttlm;
using namespace tttlm::data;
using Catch::Contains;
using test::fixture;
namespace fs = std::filesystem;

namespace {

// Macbeth and The Comedy of Errors cut at blank lines: a few thousand documents of varied length.
DocumentSpec paragraphs() {
  DocumentSpec spec;
  spec.kind = DocKind::separator;
  spec.separator = "\n\n";
  spec.inputs = {fixture("text/macbeth_gut.txt"), fixture("text/comedy_of_errors_gut.txt")};
  return spec;
}

std::vector<int32_t> read_all(const TokenSource& src) {
  std::vector<int32_t> out(src.size());
  src.read(0, src.size(), out.data());
  return out;
}

std::vector<std::string> sorted_names(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("streaming tokenize output does not depend on batch size or threads", "[data][tokenize][stream]") {
  test::TempDir tmp;
  Tokenizer tok = Tokenizer::load(fixture("tiny_bpe.model"));
  const DocumentSpec spec = paragraphs();
  TokenizeOptions opt;
  opt.val_fraction = 0.1;
  opt.shard_tokens = 7000;
  struct Variant {
    const char* dir;
    uint64_t docs, bytes;
    int threads;
  };
  const Variant variants[] = {{"one", 1, 1, 1}, {"many", 100000, 64u << 20, 3}, {"small", 50, 300, 2}};
  std::vector<TokenizeResult> results;
  for (const auto& v : variants) {
    opt.batch_docs = v.docs;
    opt.batch_bytes = v.bytes;
    opt.num_threads = v.threads;
    results.push_back(tokenize_documents(tok, spec, tmp / v.dir, opt));
  }
  const auto names = sorted_names(tmp / "one");
  REQUIRE(names.size() > 6);  // npy files and several shards of each split
  for (const char* other : {"many", "small"}) {
    INFO(other);
    REQUIRE(sorted_names(tmp / other) == names);
    for (const auto& n : names) REQUIRE(test::read_bytes(tmp / other + "/" + n) == test::read_bytes(tmp / "one/" + n));
  }

  // The same as encoding each document alone, the held-out ones those of pick_validation_docs.
  auto src = open_documents(spec);
  const uint64_t n = count_documents(spec);
  REQUIRE(n > 500);
  REQUIRE(results[0].num_docs == n);
  const std::vector<uint64_t> val = pick_validation_docs(n, 0.1, opt.seed);
  REQUIRE(results[0].val_docs == val.size());
  std::vector<int32_t> want_train, want_val;
  Document d;
  for (uint64_t i = 0; src->next(d); ++i) {
    auto& out = std::binary_search(val.begin(), val.end(), i) ? want_val : want_train;
    out.push_back(tok.bos_id());
    for (int32_t id : tok.encode(d.text)) out.push_back(id);
    out.push_back(tok.eos_id());
  }
  REQUIRE(read_all(*open_split(TokenFormat::npy, tmp / "one", "train")) == want_train);
  REQUIRE(read_all(*open_split(TokenFormat::bin, tmp / "one", "train")) == want_train);
  REQUIRE(read_all(*open_split(TokenFormat::npy, tmp / "one", "validation")) == want_val);
  REQUIRE(read_all(*open_split(TokenFormat::bin, tmp / "one", "validation")) == want_val);
  // The .npy header rewritten at the end is np.save's for the final count.
  const std::string train_npy = test::read_bytes(tmp / "one/train.npy");
  REQUIRE(train_npy.substr(0, 128) == npy_header_bytes(Dtype::u16, {static_cast<int64_t>(want_train.size())}));
}

TEST_CASE("tokenize batches stay within batch_docs and batch_bytes", "[data][tokenize][stream]") {
  test::TempDir tmp;
  Tokenizer tok = Tokenizer::load(fixture("tiny_bpe.model"));
  const DocumentSpec spec = paragraphs();
  uint64_t largest = 0;
  {
    auto src = open_documents(spec);
    Document d;
    while (src->next(d)) largest = std::max<uint64_t>(largest, d.text.size());
  }
  TokenizeOptions opt;
  opt.val_fraction = 0.0;
  opt.write_bin = false;
  opt.batch_docs = 40;
  opt.batch_bytes = 2000;
  std::vector<std::pair<uint64_t, uint64_t>> batches;
  opt.on_batch = [&](uint64_t docs, uint64_t bytes) { batches.emplace_back(docs, bytes); };
  TokenizeResult r = tokenize_documents(tok, spec, tmp / "o", opt);
  uint64_t docs = 0;
  for (const auto& [n, bytes] : batches) {
    REQUIRE(n >= 1);
    REQUIRE(n <= 40);
    REQUIRE(bytes < 2000 + largest);  // a batch closes at the first document that reaches batch_bytes
    docs += n;
  }
  REQUIRE(docs == r.num_docs);
  REQUIRE(batches.size() > r.num_docs / 40);
}

// AddressSanitizer keeps freed memory in quarantine (256 MiB by default) and adds shadow memory, so peak RSS
// says nothing about what tokenize holds; the bound below is checked in the plain builds.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif
#else
constexpr bool kAddressSanitizer = false;
#endif

TEST_CASE("tokenize memory stays bounded as the corpus grows", "[data][tokenize][stream]") {
  if (kAddressSanitizer) {
    WARN("built with AddressSanitizer: peak RSS counts its quarantine and shadow memory; skipped");
    return;
  }
  test::TempDir tmp;
  Tokenizer tok = Tokenizer::load(fixture("tiny_bpe.model"));
  // Macbeth repeated (each copy numbered, so the documents differ), cut at blank lines.
  const std::string macbeth = test::read_bytes(fixture("text/macbeth_gut.txt"));
  auto corpus = [&](const std::string& path, uint64_t bytes) {
    std::ofstream out(path, std::ios::binary);
    for (uint64_t done = 0, rep = 0; done < bytes; done += macbeth.size(), ++rep) out << rep << "\n\n" << macbeth;
  };
  corpus(tmp / "small.txt", 2u << 20);
  corpus(tmp / "large.txt", 8u << 20);
  DocumentSpec spec;
  spec.kind = DocKind::separator;
  spec.separator = "\n\n";
  TokenizeOptions opt;
  opt.val_fraction = 0.01;
  opt.batch_bytes = 256u << 10;
  opt.num_threads = 2;
  auto peak = [] {
    struct rusage u {};
    ::getrusage(RUSAGE_SELF, &u);
    return static_cast<uint64_t>(u.ru_maxrss) * 1024;  // ru_maxrss is in KiB
  };
  // The small run pays the fixed costs (batch buffers, the tokenizer's and the allocator's memory); a
  // corpus four times larger must then add little, while holding its ids alone would take id_bytes.
  spec.inputs = {tmp / "small.txt"};
  tokenize_documents(tok, spec, tmp / "a", opt);
  const uint64_t after_small = peak();
  spec.inputs = {tmp / "large.txt"};
  TokenizeResult r = tokenize_documents(tok, spec, tmp / "b", opt);
  const uint64_t growth = peak() - after_small;
  const uint64_t id_bytes = 4 * (r.train_tokens + r.val_tokens);
  INFO("peak RSS growth " << growth << " bytes; ids of the large corpus " << id_bytes << " bytes");
  REQUIRE(id_bytes > (8u << 20));
  REQUIRE(growth < id_bytes / 3);
}

TEST_CASE("re-tokenizing into a folder removes the earlier run's outputs it does not rewrite",
          "[data][tokenize][stream]") {
  test::TempDir tmp;
  Tokenizer tok = Tokenizer::load(fixture("tiny_bpe.model"));
  const DocumentSpec spec = paragraphs();
  const std::string out = tmp / "out";
  TokenizeOptions opt;
  opt.val_fraction = 0.2;
  opt.shard_tokens = 20000;
  TokenizeResult first = tokenize_documents(tok, spec, out, opt);
  REQUIRE(first.removed.empty());
  REQUIRE(fs::exists(out + "/validation.npy"));
  REQUIRE(fs::exists(out + "/test.npy"));
  REQUIRE(fs::exists(out + "/tttlm_val_000000.bin"));
  test::write_bytes(out + "/notes.txt", "not an output");
  test::write_bytes(out + "/tttlm_val_000000.bin.tokcheck.json", "{}");

  // A second run without a validation split (say with another tokenizer): the old validation files
  // would otherwise be read as this run's.
  opt.val_fraction = 0.0;
  opt.write_bin = false;
  TokenizeResult second = tokenize_documents(tok, spec, out, opt);
  std::vector<std::string> stale = {out + "/test.npy", out + "/validation.npy"};
  for (const auto& f : first.files)
    if (f.find(".bin") != std::string::npos) stale.push_back(f);  // this run writes npy only
  std::sort(stale.begin(), stale.end());
  REQUIRE(second.removed == stale);
  REQUIRE(sorted_names(out) == std::vector<std::string>{"notes.txt", "train.npy"});
  REQUIRE_THROWS_WITH(open_split(TokenFormat::npy, out, "validation"), Contains("no validation.npy"));

  // Fewer shards than before: the shards past the new count go.
  opt.write_bin = true;
  opt.write_npy = false;
  opt.shard_tokens = 1000;
  TokenizeResult many = tokenize_documents(tok, spec, out, opt);
  REQUIRE(many.removed == std::vector<std::string>{out + "/train.npy"});
  opt.shard_tokens = 100000;
  TokenizeResult few = tokenize_documents(tok, spec, out, opt);
  REQUIRE(few.files == std::vector<std::string>{out + "/tttlm_train_000000.bin"});
  REQUIRE(few.removed.size() == many.files.size() - 1);
  REQUIRE(sorted_names(out) == std::vector<std::string>{"notes.txt", "tttlm_train_000000.bin"});
}
