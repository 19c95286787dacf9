// Documents for tokenize: a sequential reader over the input files that hands out one document at a time,
// so a corpus of any size is read with memory bounded by the largest document plus a 1 MiB read buffer.
// Four ways to cut the input into documents:
//   files        one input file is one document (read whole), as the official loader treats a text;
//   jsonl        each non-blank line of each file is a JSON object whose string field `text_field` is one
//                document (the raw Pile's format: {"text": ..., "meta": {...}}); an empty string is an
//                empty document;
//   separator    each file is cut at every occurrence of `separator` (dropped; e.g. "\n\n" or
//                "<|endoftext|>"); empty pieces are skipped;
//   line_blocks  each file is cut into blocks of `lines_per_doc` lines (line ends kept; the last block of
//                a file may be shorter).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tttlm::data {

enum class DocKind { files, jsonl, separator, line_blocks };

struct DocumentSpec {
  DocKind kind = DocKind::files;
  std::vector<std::string> inputs;
  std::string text_field = "text";  // jsonl
  std::string separator;            // separator: non-empty
  uint64_t lines_per_doc = 0;       // line_blocks: >= 1
};

struct Document {
  std::string text;
  size_t file = 0;         // index into DocumentSpec::inputs
  uint64_t line = 0;       // 1-based line of the document's start in its file (0 for kind files)
  uint64_t input_end = 0;  // input bytes consumed up to the end of this document, over all files
};

class DocumentSource {
 public:
  virtual ~DocumentSource() = default;
  // Reads the next document into `doc` (reusing its buffer); false at the end of the input. Throws
  // InvalidArgument naming the file (and line) for an unreadable input or a malformed JSONL line.
  virtual bool next(Document& doc) = 0;
  // "corpus.jsonl line 17", "book.txt": where a document came from, for messages.
  virtual std::string describe(const Document& doc) const = 0;
  // Total input bytes (the sum of the file sizes); input_end reaches it at the end.
  uint64_t total_bytes() const { return total_bytes_; }

 protected:
  uint64_t total_bytes_ = 0;
};

// Checks the spec (at least one input, every input readable, a separator or line count where needed)
// and opens a reader positioned at the first document. Throws InvalidArgument naming the problem.
std::unique_ptr<DocumentSource> open_documents(const DocumentSpec& spec);

// Number of documents of `spec`: the file count for kind files (nothing is read), else one full pass of
// open_documents(spec) that keeps no document (so a malformed JSONL line is reported here already).
uint64_t count_documents(const DocumentSpec& spec);

// Writes the text of the documents of `spec`, each followed by "\n", to `path` until max_bytes are written
// (whole documents only, at least one): plain text for training a tokenizer from JSONL, whose lines are
// JSON rather than text. Returns the bytes written.
uint64_t write_documents_text(const DocumentSpec& spec, const std::string& path, uint64_t max_bytes);

// "files", "jsonl", "separator", "line_blocks".
const char* doc_kind_name(DocKind kind);

}  // namespace tttlm::data
