// Document sources of tokenize: JSONL lines (good input, clear errors), pieces between a separator
// (also across the 1 MiB read buffer) and blocks of lines, with the file and line of each document.
#include <catch2/catch.hpp>

#include "core/error.h"
#include "data/doc_source.h"
#include "data_fixtures.h"

using namespace tttlm;
using namespace tttlm::data;
using Catch::Contains;

namespace {

struct Read {
  std::vector<std::string> texts, where;
  uint64_t last_end = 0, total = 0;
};

Read read_all(const DocumentSpec& spec) {
  auto src = open_documents(spec);
  Read r;
  Document d;
  while (src->next(d)) {
    r.texts.push_back(d.text);
    r.where.push_back(src->describe(d));
    REQUIRE(d.input_end >= r.last_end);
    r.last_end = d.input_end;
  }
  r.total = src->total_bytes();
  REQUIRE(count_documents(spec) == r.texts.size());
  return r;
}

}  // namespace

TEST_CASE("JSONL: each non-blank line's text field is one document", "[data][tokenize][docs]") {
  test::TempDir tmp;
  test::write_bytes(tmp / "a.jsonl",
                    "{\"text\": \"First doc.\\nSecond line.\", \"meta\": {\"pile_set_name\": \"Books3\"}}\n"
                    "\n"
                    "   \r\n"
                    "{\"meta\": {}, \"text\": \"caf\\u00e9 \\\"quoted\\\"\"}\r\n"
                    "{\"text\": \"\"}");  // an empty text is an empty document; no final newline
  test::write_bytes(tmp / "b.jsonl", "{\"text\": \"from b\"}\n");
  DocumentSpec spec;
  spec.kind = DocKind::jsonl;
  spec.inputs = {tmp / "a.jsonl", tmp / "b.jsonl"};
  Read r = read_all(spec);
  REQUIRE(r.texts == std::vector<std::string>{"First doc.\nSecond line.", "caf\xc3\xa9 \"quoted\"", "", "from b"});
  REQUIRE(r.where == std::vector<std::string>{tmp / "a.jsonl line 1", tmp / "a.jsonl line 4", tmp / "a.jsonl line 5",
                                              tmp / "b.jsonl line 1"});
  REQUIRE(r.last_end == r.total);

  spec.text_field = "content";
  test::write_bytes(tmp / "c.jsonl", "{\"content\": \"x\", \"text\": \"not this\"}\n");
  spec.inputs = {tmp / "c.jsonl"};
  REQUIRE(read_all(spec).texts == std::vector<std::string>{"x"});
}

TEST_CASE("JSONL errors name the file, the line and what was found", "[data][tokenize][docs]") {
  test::TempDir tmp;
  DocumentSpec spec;
  spec.kind = DocKind::jsonl;
  spec.inputs = {tmp / "bad.jsonl"};
  auto fails = [&](const std::string& content) {
    test::write_bytes(tmp / "bad.jsonl", content);
    auto src = open_documents(spec);
    Document d;
    while (src->next(d)) {
    }
  };
  const std::string good = "{\"text\": \"ok\"}\n";
  REQUIRE_THROWS_AS(fails(good + good + "{\"text\": \"unterminated}\n"), InvalidArgument);
  REQUIRE_THROWS_WITH(
      fails(good + good + "{\"text\": \"unterminated}\n" + good),
      Contains(tmp / "bad.jsonl line 3: invalid JSON at byte") && Contains("found \"{\"text\": \"unterminated}\""));
  REQUIRE_THROWS_WITH(fails(good + "{\"body\": \"x\", \"meta\": {}}\n"), Contains("line 2: no field \"text\"") &&
                                                                             Contains("the fields body, meta") &&
                                                                             Contains("--text-field"));
  REQUIRE_THROWS_WITH(fails("{\"text\": 17}\n"),
                      Contains("line 1: field \"text\" must be a string; found a JSON number"));
  REQUIRE_THROWS_WITH(fails(good + "\n[\"text\", \"x\"]\n"),
                      Contains("line 3: expected a JSON object with a string field \"text\"; found a JSON array"));
  REQUIRE_THROWS_WITH(fails("plain text, not JSON\n"), Contains("line 1: invalid JSON"));
  // The counting pass reports the same error.
  REQUIRE_THROWS_WITH(count_documents(spec), Contains("line 1: invalid JSON"));
}

TEST_CASE("a file splits into documents at a separator or into blocks of lines", "[data][tokenize][docs]") {
  test::TempDir tmp;
  test::write_bytes(tmp / "t.txt", "\n\nfirst para\nstill first\n\nsecond\n\n\n\nthird\n");
  DocumentSpec spec;
  spec.kind = DocKind::separator;
  spec.separator = "\n\n";
  spec.inputs = {tmp / "t.txt"};
  Read r = read_all(spec);
  // Empty pieces (the leading separator, separators in a row) are no documents; the separator is dropped.
  REQUIRE(r.texts == std::vector<std::string>{"first para\nstill first", "second", "third\n"});
  REQUIRE(r.where == std::vector<std::string>{tmp / "t.txt line 3", tmp / "t.txt line 6", tmp / "t.txt line 10"});
  REQUIRE(r.last_end == r.total);

  spec.kind = DocKind::line_blocks;
  spec.lines_per_doc = 3;
  test::write_bytes(tmp / "l.txt", "l1\nl2\nl3\nl4\nl5\nl6\nl7");
  test::write_bytes(tmp / "m.txt", "m1\n");
  spec.inputs = {tmp / "l.txt", tmp / "m.txt"};
  r = read_all(spec);
  REQUIRE(r.texts == std::vector<std::string>{"l1\nl2\nl3\n", "l4\nl5\nl6\n", "l7", "m1\n"});
  REQUIRE(r.where == std::vector<std::string>{tmp / "l.txt line 1", tmp / "l.txt line 4", tmp / "l.txt line 7",
                                              tmp / "m.txt line 1"});

  spec.lines_per_doc = 0;
  REQUIRE_THROWS_WITH(open_documents(spec), Contains("lines_per_doc >= 1"));
  spec.kind = DocKind::separator;
  spec.separator = "";
  REQUIRE_THROWS_WITH(open_documents(spec), Contains("non-empty separator"));
  spec.kind = DocKind::files;
  spec.inputs = {tmp / "missing.txt"};
  REQUIRE_THROWS_WITH(open_documents(spec), Contains("cannot read the input") && Contains("missing.txt"));
}

TEST_CASE("separator splitting is exact across the read buffer", "[data][tokenize][docs]") {
  test::TempDir tmp;
  const std::string sep = "<|endoftext|>";
  // Documents of varied lengths so separators straddle the 1 MiB read boundaries at every offset.
  std::vector<std::string> want;
  std::string all;
  for (size_t i = 0; all.size() < (3u << 20); ++i) {
    std::string doc(1 + (i * 7919) % 50000, static_cast<char>('a' + i % 26));
    doc += "<|endoftext";  // a separator prefix inside a document is text
    want.push_back(doc);
    all += doc + sep;
  }
  test::write_bytes(tmp / "big.txt", all);
  DocumentSpec spec;
  spec.kind = DocKind::separator;
  spec.separator = sep;
  spec.inputs = {tmp / "big.txt"};
  Read r = read_all(spec);
  REQUIRE(r.texts.size() == want.size());
  REQUIRE(r.texts == want);
  REQUIRE(r.last_end == all.size());
}
