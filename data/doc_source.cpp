// The document readers of doc_source.h: whole files, and pieces of files cut by a delimiter (JSONL lines,
// a separator string, blocks of lines), read through a fixed-size buffer.
#include "data/doc_source.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string_view>

#include "core/error.h"
#include "data/mmap_file.h"

namespace tttlm::data {

namespace fs = std::filesystem;

namespace {

constexpr size_t kReadBytes = 1 << 20;

// A readable rendering of (the start of) a line for messages: control bytes as \xNN, at most 80 bytes.
std::string shown(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < 80; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return s.size() > 80 ? out + "..." : out;
}

uint64_t count_newlines(std::string_view s) { return static_cast<uint64_t>(std::count(s.begin(), s.end(), '\n')); }

// Reads one file in kReadBytes chunks and hands out the pieces between occurrences of a delimiter.
class PieceReader {
 public:
  explicit PieceReader(const std::string& path) : path_(path), file_(std::fopen(path.c_str(), "rb")) {
    TTT_CHECK(file_ != nullptr, "[tokenize] cannot open the input ", path, ": ", std::strerror(errno));
  }
  ~PieceReader() { std::fclose(file_); }
  PieceReader(const PieceReader&) = delete;
  PieceReader& operator=(const PieceReader&) = delete;

  // Appends the bytes up to the next `delim` (or the end of the file) to `out` and consumes the delimiter;
  // `found` says whether a delimiter ended the piece. Returns false, appending nothing, at the end.
  bool piece(std::string_view delim, std::string& out, bool& found) {
    bool any = false;
    for (;;) {
      std::string_view avail(buf_.data() + pos_, buf_.size() - pos_);
      size_t at = avail.find(delim);
      if (at != std::string_view::npos) {
        out.append(avail.data(), at);
        pos_ += at + delim.size();
        consumed_ += at + delim.size();
        found = true;
        return true;
      }
      // Keep the last delim.size() - 1 bytes: a delimiter may straddle the next read.
      size_t keep = std::min(avail.size(), delim.size() - 1);
      size_t take = avail.size() - keep;
      out.append(avail.data(), take);
      consumed_ += take;
      any = any || take > 0;
      buf_.erase(0, pos_ + take);
      pos_ = 0;
      if (!fill()) {
        out.append(buf_);
        consumed_ += buf_.size();
        any = any || !buf_.empty();
        buf_.clear();
        found = false;
        return any;
      }
    }
  }
  // Appends everything up to the end of the file to `out`.
  void rest(std::string& out) {
    do {
      out.append(buf_, pos_, std::string::npos);
      consumed_ += buf_.size() - pos_;
      buf_.clear();
      pos_ = 0;
    } while (fill());
  }
  uint64_t consumed() const { return consumed_; }

 private:
  bool fill() {
    if (eof_) return false;
    size_t had = buf_.size();
    buf_.resize(had + kReadBytes);
    size_t got = std::fread(buf_.data() + had, 1, kReadBytes, file_);
    buf_.resize(had + got);
    TTT_CHECK(!std::ferror(file_), "[tokenize] error while reading ", path_, ": ", std::strerror(errno));
    if (got == 0) eof_ = true;
    return got > 0;
  }

  std::string path_;
  std::FILE* file_;
  std::string buf_;
  size_t pos_ = 0;
  uint64_t consumed_ = 0;
  bool eof_ = false;
};

class FilesSource final : public DocumentSource {
 public:
  explicit FilesSource(const DocumentSpec& spec, uint64_t total) : spec_(spec) { total_bytes_ = total; }
  bool next(Document& doc) override {
    if (index_ >= spec_.inputs.size()) return false;
    const std::string& path = spec_.inputs[index_];
    doc.text.clear();
    PieceReader reader(path);
    reader.rest(doc.text);
    done_ += reader.consumed();
    doc.file = index_++;
    doc.line = 0;
    doc.input_end = done_;
    return true;
  }
  std::string describe(const Document& doc) const override { return spec_.inputs[doc.file]; }

 private:
  const DocumentSpec spec_;
  size_t index_ = 0;
  uint64_t done_ = 0;
};

// jsonl, separator and line_blocks: pieces of each file in turn.
class PiecesSource final : public DocumentSource {
 public:
  explicit PiecesSource(const DocumentSpec& spec, uint64_t total) : spec_(spec) { total_bytes_ = total; }

  bool next(Document& doc) override {
    for (;;) {
      if (!reader_) {
        if (file_ >= spec_.inputs.size()) return false;
        reader_ = std::make_unique<PieceReader>(spec_.inputs[file_]);
        line_ = 1;
      }
      doc.text.clear();
      doc.file = file_;
      doc.line = line_;
      bool got = false;
      switch (spec_.kind) {
        case DocKind::jsonl:
          got = next_jsonl(doc);
          break;
        case DocKind::separator:
          got = next_separated(doc);
          break;
        default:
          got = next_block(doc);
          break;
      }
      doc.input_end = base_ + reader_->consumed();
      if (got) return true;
      base_ += reader_->consumed();
      reader_.reset();
      ++file_;
    }
  }

  std::string describe(const Document& doc) const override {
    return spec_.inputs[doc.file] + " line " + std::to_string(doc.line);
  }

 private:
  bool next_jsonl(Document& doc) {
    for (;;) {
      bool found = false;
      line_buf_.clear();
      if (!reader_->piece("\n", line_buf_, found)) return false;
      doc.line = line_++;
      if (line_buf_.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank lines are no documents
      doc.text = extract(line_buf_, doc);
      return true;
    }
  }

  std::string extract(const std::string& line, const Document& doc) const {
    const std::string where = "[tokenize] " + describe(doc) + ": ";
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      throw InvalidArgument(where + "invalid JSON at byte " + std::to_string(e.byte) +
                            " of the line (expected one JSON object per line); found \"" + shown(line) + "\"");
    }
    TTT_CHECK(j.is_object(), where, "expected a JSON object with a string field \"", spec_.text_field,
              "\"; found a JSON ", j.type_name(), " \"", shown(line), "\"");
    auto it = j.find(spec_.text_field);
    if (it == j.end()) {
      std::string keys;
      for (const auto& [k, v] : j.items()) keys += (keys.empty() ? "" : ", ") + k;
      throw InvalidArgument(where + "no field \"" + spec_.text_field + "\" (the object has " +
                            (keys.empty() ? std::string("no fields") : "the fields " + keys) +
                            "; choose the field with --text-field)");
    }
    TTT_CHECK(it->is_string(), where, "field \"", spec_.text_field, "\" must be a string; found a JSON ",
              it->type_name());
    return it->get<std::string>();
  }

  bool next_separated(Document& doc) {
    for (;;) {
      bool found = false;
      doc.line = line_;
      if (!reader_->piece(spec_.separator, doc.text, found)) return false;
      line_ += count_newlines(doc.text) + (found ? count_newlines(spec_.separator) : 0);
      if (!doc.text.empty()) return true;  // empty pieces (separators in a row) are no documents
    }
  }

  bool next_block(Document& doc) {
    uint64_t lines = 0;
    while (lines < spec_.lines_per_doc) {
      bool found = false;
      if (!reader_->piece("\n", doc.text, found)) break;
      if (found) doc.text += '\n';
      ++lines;
      ++line_;
    }
    return lines > 0;
  }

  const DocumentSpec spec_;
  std::unique_ptr<PieceReader> reader_;
  size_t file_ = 0;
  uint64_t line_ = 1, base_ = 0;
  std::string line_buf_;
};

}  // namespace

const char* doc_kind_name(DocKind kind) {
  switch (kind) {
    case DocKind::files:
      return "files";
    case DocKind::jsonl:
      return "jsonl";
    case DocKind::separator:
      return "separator";
    case DocKind::line_blocks:
      return "line_blocks";
  }
  return "?";
}

std::unique_ptr<DocumentSource> open_documents(const DocumentSpec& spec) {
  TTT_CHECK(!spec.inputs.empty(), "[tokenize] expected at least one input file; got none");
  TTT_CHECK(spec.kind != DocKind::separator || !spec.separator.empty(),
            "[tokenize] splitting by separator needs a non-empty separator string");
  TTT_CHECK(spec.kind != DocKind::line_blocks || spec.lines_per_doc >= 1,
            "[tokenize] splitting into line blocks needs lines_per_doc >= 1; got ", spec.lines_per_doc);
  TTT_CHECK(spec.kind != DocKind::jsonl || !spec.text_field.empty(), "[tokenize] the JSONL text field name is empty");
  uint64_t total = 0;
  for (const auto& f : spec.inputs) {
    std::error_code ec;
    TTT_CHECK(fs::is_regular_file(f, ec), "[tokenize] cannot read the input ", f, ": not a regular file");
    uint64_t size = fs::file_size(f, ec);
    TTT_CHECK(!ec, "[tokenize] cannot read the input ", f, ": ", ec.message());
    total += size;
  }
  if (spec.kind == DocKind::files) return std::make_unique<FilesSource>(spec, total);
  return std::make_unique<PiecesSource>(spec, total);
}

uint64_t count_documents(const DocumentSpec& spec) {
  auto src = open_documents(spec);
  if (spec.kind == DocKind::files) return spec.inputs.size();
  uint64_t n = 0;
  Document doc;
  while (src->next(doc)) ++n;
  return n;
}

uint64_t write_documents_text(const DocumentSpec& spec, const std::string& path, uint64_t max_bytes) {
  auto src = open_documents(spec);
  OutputFile out(path);
  Document doc;
  uint64_t written = 0;
  while (src->next(doc)) {
    if (written > 0 && written + doc.text.size() + 1 > max_bytes) break;
    doc.text += '\n';
    out.write(doc.text.data(), doc.text.size());
    written += doc.text.size();
  }
  out.commit();
  return written;
}

}  // namespace tttlm::data
