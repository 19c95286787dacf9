// .npy header parser (a small recursive-descent reader of the Python dict literal numpy writes) and a
// writer that reproduces np.save byte for byte (numpy/lib/format.py: _wrap_header, ARRAY_ALIGN = 64).
#include "data/npy.h"

#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "data/mmap_file.h"

namespace tttlm::data {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;
constexpr size_t kAlign = 64;
constexpr uint64_t kMaxHeaderLen = 1 << 20;

// Printable rendering of raw bytes for messages: "\x93NUMPY" stays readable, others become \xNN.
std::string escape(const uint8_t* p, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\') {
      out += static_cast<char>(p[i]);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", p[i]);
      out += buf;
    }
  }
  return out;
}

uint32_t read_le(const uint8_t* p, int nbytes) {
  uint32_t v = 0;
  for (int i = nbytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

struct DtypeName {
  const char* descr;
  Dtype dtype;
};
constexpr DtypeName kDtypes[] = {
    {"<u2", Dtype::u16}, {"<i4", Dtype::i32}, {"<i8", Dtype::i64}, {"<f4", Dtype::f32}, {"<f8", Dtype::f64}};
constexpr char kAccepted[] = "'<u2', '<i4', '<i8', '<f4' or '<f8'";

const char* descr_of(Dtype d) {
  for (const auto& e : kDtypes)
    if (e.dtype == d) return e.descr;
  throw InvalidArgument(std::string("[npy] cannot write dtype ") + dtype_name(d) +
                        "; expected f32, f64, i32, i64 or u16");
}

// Parser over the header text; `base` is the text's byte offset in the file, for messages.
class DictParser {
 public:
  DictParser(const std::string& text, size_t base, const std::string& path) : s_(text), base_(base), path_(path) {}

  [[noreturn]] void fail(const std::string& what) const { fail_at(pos_, what); }
  [[noreturn]] void fail_at(size_t pos, const std::string& what) const {
    std::string near = s_.substr(pos, 24);
    size_t end = s_.find_last_not_of(" \n");  // the padding says nothing
    std::string dict = s_.substr(0, end == std::string::npos ? 0 : end + 1);
    throw InvalidArgument("[npy] " + path_ + ": byte offset " + std::to_string(base_ + pos) + ": " + what +
                          "; found \"" + escape(reinterpret_cast<const uint8_t*>(near.data()), near.size()) +
                          "\" in header \"" + escape(reinterpret_cast<const uint8_t*>(dict.data()), dict.size()) +
                          "\"");
  }
  size_t offset() const { return base_ + pos_; }
  size_t pos() const { return pos_; }
  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n')) ++pos_;
  }
  bool accept(char c) {
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c, const char* what) {
    if (!accept(c)) fail(std::string("expected ") + what);
  }
  std::string string_literal() {
    skip_ws();
    if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"')) fail("expected a quoted string");
    char q = s_[pos_++];
    size_t end = s_.find(q, pos_);
    if (end == std::string::npos) fail("unterminated string");
    std::string v = s_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return v;
  }
  bool boolean() {
    skip_ws();
    if (s_.compare(pos_, 4, "True") == 0) {
      pos_ += 4;
      return true;
    }
    if (s_.compare(pos_, 5, "False") == 0) {
      pos_ += 5;
      return false;
    }
    fail("expected True or False");
  }
  uint64_t integer() {
    skip_ws();
    if (pos_ >= s_.size() || s_[pos_] < '0' || s_[pos_] > '9') fail("expected a non-negative integer");
    uint64_t v = 0;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      uint64_t d = static_cast<uint64_t>(s_[pos_] - '0');
      if (v > (UINT64_MAX - d) / 10) fail("integer does not fit 64 bits");
      v = v * 10 + d;
      ++pos_;
    }
    if (pos_ < s_.size() && s_[pos_] == 'L') ++pos_;  // Python 2 longs, written by old numpy
    return v;
  }
  std::vector<uint64_t> tuple() {
    expect('(', "'(' starting the shape tuple");
    std::vector<uint64_t> dims;
    while (!accept(')')) {
      dims.push_back(integer());
      if (!accept(',')) {
        expect(')', "',' or ')' in the shape tuple");
        break;
      }
    }
    return dims;
  }

 private:
  const std::string& s_;
  size_t base_;
  const std::string& path_;
  size_t pos_ = 0;
};

Dtype parse_descr(const std::string& descr, const DictParser& p, size_t at) {
  for (const auto& e : kDtypes)
    if (descr == e.descr) return e.dtype;
  if (!descr.empty() && descr[0] == '>')
    p.fail_at(at, "big-endian dtype '" + descr + "' is not supported (expected little-endian " + kAccepted +
                      "; convert with arr.astype(arr.dtype.newbyteorder('<')))");
  p.fail_at(at, "unsupported dtype '" + descr + "'; expected " + kAccepted);
}

}  // namespace

uint64_t NpyHeader::numel() const {
  uint64_t n = 1;
  for (uint64_t d : shape) n *= d;
  return n;
}

std::string NpyHeader::shape_str() const {
  std::string out = "(";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + (shape.size() == 1 ? ",)" : ")");
}

NpyHeader parse_npy_header(const uint8_t* bytes, size_t size, const std::string& path) {
  TTT_CHECK(size >= 10, "[npy] ", path, ": truncated: a .npy file starts with a 10-byte preamble; found only ", size,
            " bytes");
  TTT_CHECK(std::memcmp(bytes, kMagic, kMagicLen) == 0, "[npy] ", path,
            ": byte offset 0: expected the magic \"\\x93NUMPY\"; found \"", escape(bytes, kMagicLen), "\"");
  NpyHeader h;
  h.major = bytes[6];
  h.minor = bytes[7];
  TTT_CHECK((h.major == 1 || h.major == 2 || h.major == 3) && h.minor == 0, "[npy] ", path,
            ": byte offset 6: expected format version 1.0, 2.0 or 3.0; found ", h.major, ".", h.minor);
  size_t prefix = h.major == 1 ? 10 : 12;
  TTT_CHECK(size >= prefix, "[npy] ", path, ": truncated: a version ", h.major, ".0 preamble has ", prefix,
            " bytes; found only ", size);
  uint64_t header_len = read_le(bytes + 8, h.major == 1 ? 2 : 4);
  // Only structured dtypes with many fields need long headers, and they are rejected anyway; the cap keeps
  // a corrupt length from making read_npy_header allocate gigabytes.
  TTT_CHECK(header_len <= kMaxHeaderLen, "[npy] ", path, ": byte offset 8: expected HEADER_LEN <= ", kMaxHeaderLen,
            "; found ", header_len);
  h.data_offset = prefix + header_len;
  TTT_CHECK(h.data_offset <= size, "[npy] ", path, ": truncated header: HEADER_LEN at byte offset 8 says the header ",
            "ends at byte offset ", h.data_offset, "; found only ", size, " bytes");
  std::string text(reinterpret_cast<const char*>(bytes + prefix), header_len);
  DictParser p(text, prefix, path);
  TTT_CHECK(header_len > 0 && text.back() == '\n', "[npy] ", path, ": byte offset ", h.data_offset - 1,
            ": expected the header to end with '\\n'; found \"",
            escape(bytes + h.data_offset - (header_len ? 1 : 0), header_len ? 1 : 0), "\"");
  if (h.major < 3) {
    // v1/v2 headers are latin-1, v3 UTF-8; a well-formed header is ASCII in every version.
    for (size_t i = 0; i < text.size(); ++i)
      TTT_CHECK(static_cast<uint8_t>(text[i]) < 0x80, "[npy] ", path, ": byte offset ", prefix + i,
                ": expected ASCII in the header; found byte 0x", std::hex,
                static_cast<int>(static_cast<uint8_t>(text[i])));
  }

  bool seen_descr = false, seen_order = false, seen_shape = false;
  p.expect('{', "'{' starting the header dict");
  while (!p.accept('}')) {
    p.skip_ws();
    size_t key_at = p.pos();
    std::string key = p.string_literal();
    p.expect(':', "':' after a dict key");
    if (key == "descr") {
      p.skip_ws();
      size_t at = p.pos();
      if (p.accept('[')) p.fail_at(at, "structured dtypes are not supported; expected " + std::string(kAccepted));
      h.descr = p.string_literal();
      h.dtype = parse_descr(h.descr, p, at);
      seen_descr = true;
    } else if (key == "fortran_order") {
      h.fortran_order = p.boolean();
      seen_order = true;
    } else if (key == "shape") {
      h.shape = p.tuple();
      seen_shape = true;
    } else {
      p.fail_at(key_at, "unknown header key '" + key + "'; expected 'descr', 'fortran_order' and 'shape'");
    }
    if (!p.accept(',')) {
      p.expect('}', "',' or '}' in the header dict");
      break;
    }
  }
  p.skip_ws();
  if (p.offset() != h.data_offset) p.fail("expected only padding after the header dict");
  if (!seen_descr || !seen_order || !seen_shape)
    p.fail(std::string("header dict lacks the key '") +
           (!seen_descr   ? "descr"
            : !seen_order ? "fortran_order"
                          : "shape") +
           "'");
  // Every size derived from the header must fit 64 bits: numel, numel * itemsize and data_offset + that.
  // Without these checks a shape like (2**62-1,) of '<i4' wraps the file-size check and reads past the map.
  uint64_t n = 1;
  bool zero = false;
  for (uint64_t d : h.shape) {
    if (d == 0)
      zero = true;
    else if (!zero && __builtin_mul_overflow(n, d, &n))
      p.fail_at(0, "field 'shape': " + h.shape_str() + " has more than 2^64 - 1 elements");
  }
  if (zero) n = 0;
  uint64_t nbytes = 0, end = 0;
  if (__builtin_mul_overflow(n, static_cast<uint64_t>(dtype_size(h.dtype)), &nbytes) ||
      __builtin_add_overflow(h.data_offset, nbytes, &end))
    p.fail_at(0, "field 'shape': " + h.shape_str() + " of '" + h.descr + "' needs " + std::to_string(n) + " x " +
                     std::to_string(dtype_size(h.dtype)) + " data bytes after byte offset " +
                     std::to_string(h.data_offset) + ", more than a 64-bit file size can hold");
  return h;
}

NpyHeader read_npy_header(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  TTT_CHECK_RT(in.good(), "[npy] cannot open ", path);
  uint64_t fsize = file_size(path);
  std::vector<uint8_t> buf(static_cast<size_t>(std::min<uint64_t>(fsize, 12)));
  in.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(buf.size()));
  // Learn HEADER_LEN from the preamble (the parser reports a bad preamble), then read the whole header.
  size_t want = buf.size();
  if (buf.size() >= 10 && std::memcmp(buf.data(), kMagic, kMagicLen) == 0) {
    bool v1 = buf[6] == 1;
    if (v1 || buf.size() >= 12) want = (v1 ? 10 : 12) + read_le(buf.data() + 8, v1 ? 2 : 4);
  }
  want = static_cast<size_t>(std::min<uint64_t>(want, fsize));
  if (want > buf.size()) {
    size_t had = buf.size();
    buf.resize(want);
    in.read(reinterpret_cast<char*>(buf.data() + had), static_cast<std::streamsize>(want - had));
    TTT_CHECK_RT(in.good(), "[npy] cannot read the header of ", path);
  }
  NpyHeader h = parse_npy_header(buf.data(), buf.size(), path);
  check_npy_file_size(h, fsize, path);
  return h;
}

void check_npy_file_size(const NpyHeader& h, uint64_t file_size, const std::string& path) {
  // Re-checked here because callers may hand in a header they built or edited themselves.
  uint64_t n = 1, bytes = 0, want = 0;
  bool overflow = false, zero = false;
  for (uint64_t d : h.shape) {
    zero = zero || d == 0;
    overflow = overflow || __builtin_mul_overflow(n, d, &n);
  }
  if (zero) n = 0, overflow = false;
  overflow = overflow || __builtin_mul_overflow(n, static_cast<uint64_t>(dtype_size(h.dtype)), &bytes) ||
             __builtin_add_overflow(h.data_offset, bytes, &want);
  TTT_CHECK(!overflow, "[npy] ", path, ": field 'shape': ", h.shape_str(), " of '", h.descr, "' from byte offset ",
            h.data_offset, " needs more bytes than a 64-bit file size can hold; found a file of ", file_size, " bytes");
  TTT_CHECK(file_size >= want, "[npy] ", path, ": truncated data: shape ", h.shape_str(), " of '", h.descr,
            "' needs a file of ", want, " bytes (", h.data_bytes(), " data bytes from byte offset ", h.data_offset,
            "); found ", file_size, " bytes");
}

Tensor read_npy(const std::string& path) {
  NpyHeader h = read_npy_header(path);
  TTT_CHECK(!h.fortran_order || h.shape.size() <= 1, "[npy] ", path, ": Fortran-ordered arrays of rank > 1 are not ",
            "supported; found shape ", h.shape_str(), " (save np.ascontiguousarray(a) instead)");
  Shape shape;
  uint64_t nonzero = 1;  // a tensor's strides multiply its dimensions even when a zero one leaves it empty
  bool too_big = false;
  for (uint64_t d : h.shape) {
    TTT_CHECK(d <= static_cast<uint64_t>(INT64_MAX), "[npy] ", path, ": dimension ", d, " does not fit int64");
    if (d != 0) too_big = too_big || __builtin_mul_overflow(nonzero, d, &nonzero);
    shape.push_back(static_cast<int64_t>(d));
  }
  TTT_CHECK(!too_big && nonzero <= static_cast<uint64_t>(INT64_MAX), "[npy] ", path, ": field 'shape': ", h.shape_str(),
            ": the product of the non-zero dimensions does not fit int64 (numpy refuses such an ",
            "array too, empty or not)");
  Tensor t = Tensor::empty(shape, h.dtype);
  std::ifstream in(path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(h.data_offset));
  in.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(h.data_bytes()));
  TTT_CHECK_RT(in.good() || h.data_bytes() == 0, "[npy] cannot read ", h.data_bytes(), " data bytes of ", path,
               " from byte offset ", h.data_offset);
  return t;
}

std::string npy_header_bytes(Dtype dtype, const Shape& shape) {
  std::string dict = std::string("{'descr': '") + descr_of(dtype) + "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.size(); ++i) dict += (i ? ", " : "") + std::to_string(shape[i]);
  dict += shape.size() == 1 ? ",), }" : "), }";
  // numpy >= 1.23 leaves room to grow the first axis in place: 21 - len(repr(shape[0])) spaces.
  if (!shape.empty()) dict.append(21 - std::min<size_t>(21, std::to_string(shape[0]).size()), ' ');
  // np.save: hlen counts the trailing '\n'; padlen = ARRAY_ALIGN - (preamble + hlen) % ARRAY_ALIGN (1..64).
  // Version 1.0 always suffices: even 64 dimensions of 20 digits stay far below its 65535-byte limit.
  const size_t hlen = dict.size() + 1;
  const size_t padlen = kAlign - (10 + hlen) % kAlign;
  const size_t total = hlen + padlen;
  TTT_CHECK(total <= 0xffff, "[npy] header for shape ", shape_str(shape), " does not fit format version 1.0");
  std::string out(kMagic, kMagicLen);
  out += '\x01';
  out += '\0';
  out += static_cast<char>(total & 0xff);
  out += static_cast<char>(total >> 8);
  out += dict;
  out.append(padlen, ' ');
  out += '\n';
  return out;
}

void write_npy(const std::string& path, const void* data, Dtype dtype, const Shape& shape) {
  for (int64_t d : shape)
    TTT_CHECK(d >= 0, "[npy] cannot write ", path, ": negative dimension in shape ", shape_str(shape));
  std::string header = npy_header_bytes(dtype, shape);
  OutputFile out(path);
  out.write(header.data(), header.size());
  out.write(data, static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype));
  out.commit();
}

void write_npy(const std::string& path, const Tensor& t) {
  TTT_CHECK(t.device().is_cpu(), "[npy] cannot write ", path, ": expected a CPU tensor; got ", t.describe());
  TTT_CHECK(t.is_contiguous(), "[npy] cannot write ", path, ": expected a contiguous tensor; got ", t.describe(),
            " with strides ", shape_str(t.strides()));
  write_npy(path, t.data_ptr(), t.dtype(), t.shape());
}

}  // namespace tttlm::data
