#include "train/safetensors.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"

namespace tttlm::train {

namespace {

const char* st_dtype(Dtype d) {
  switch (d) {
    case Dtype::f32:
      return "F32";
    case Dtype::bf16:
      return "BF16";
    case Dtype::f64:
      return "F64";
    case Dtype::i32:
      return "I32";
    case Dtype::i64:
      return "I64";
    case Dtype::u16:
      return "U16";
  }
  return "?";
}

Dtype from_st_dtype(const std::string& s, const std::string& path, const std::string& name) {
  for (Dtype d : {Dtype::f32, Dtype::bf16, Dtype::f64, Dtype::i32, Dtype::i64, Dtype::u16})
    if (s == st_dtype(d)) return d;
  throw InvalidArgument("[safetensors] " + path + ": tensor \"" + name + "\" has dtype " + s +
                        ", expected one of F32, BF16, F64, I32, I64, U16");
}

void fsync_dir(const std::string& path) {
  std::string dir = path.substr(0, path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/'));
  if (dir.empty()) dir = ".";
  int fd = ::open(dir.c_str(), O_RDONLY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

// A temporary file next to `path` that is fsynced and renamed over `path` by commit(), or removed when
// dropped uncommitted (an exception on the way), so a crash leaves either the old or the new file.
class AtomicFile {
 public:
  explicit AtomicFile(const std::string& path) : path_(path), tmp_(path + ".tmp." + std::to_string(::getpid())) {
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    TTT_CHECK_RT(fd_ >= 0, "[write] cannot create ", tmp_, ": ", std::strerror(errno));
  }
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(tmp_.c_str());
  }
  void write(const void* data, size_t size) {
    const char* p = static_cast<const char*>(data);
    size_t done = 0;
    while (done < size) {
      ssize_t n = ::write(fd_, p + done, size - done);
      if (n < 0 && errno == EINTR) continue;
      TTT_CHECK_RT(n >= 0, "[write] writing ", tmp_, " failed after ", written_ + done,
                   " bytes: ", std::strerror(errno));
      done += static_cast<size_t>(n);
    }
    written_ += size;
  }
  void commit() {
    TTT_CHECK_RT(::fsync(fd_) == 0, "[write] fsync of ", tmp_, " failed: ", std::strerror(errno));
    const int rc = ::close(fd_);
    fd_ = -1;
    TTT_CHECK_RT(rc == 0, "[write] close of ", tmp_, " failed: ", std::strerror(errno));
    TTT_CHECK_RT(::rename(tmp_.c_str(), path_.c_str()) == 0, "[write] rename ", tmp_, " -> ", path_,
                 " failed: ", std::strerror(errno));
    committed_ = true;
    fsync_dir(path_);
  }

 private:
  std::string path_, tmp_;
  int fd_ = -1;
  size_t written_ = 0;
  bool committed_ = false;
};

}  // namespace

void write_file_atomic(const std::string& path, const std::string& bytes) {
  AtomicFile f(path);
  f.write(bytes.data(), bytes.size());
  f.commit();
}

// Streams the file: the header, then each tensor's bytes in name order straight from its storage. Extra
// memory is the header plus, for a tensor not on the CPU, one host copy of that tensor at a time; the file
// is never assembled in memory.
void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  size_t offset = 0;
  for (const auto& [name, t] : tensors) {
    TTT_CHECK(t.defined(), "[safetensors] ", path, ": tensor \"", name, "\" is undefined");
    TTT_CHECK(t.is_contiguous(), "[safetensors] ", path, ": tensor \"", name, "\" must be contiguous, got ",
              t.describe());
    header[name] = {
        {"dtype", st_dtype(t.dtype())}, {"shape", t.shape()}, {"data_offsets", {offset, offset + t.nbytes()}}};
    offset += t.nbytes();
  }
  std::string hs = header.dump();
  while (hs.size() % 8) hs += ' ';  // align the data to 8 bytes, as the reference writer does
  AtomicFile f(path);
  const uint64_t n = hs.size();
  f.write(&n, 8);
  f.write(hs.data(), hs.size());
  for (const auto& [name, t] : tensors) {
    if (t.nbytes() == 0) continue;
    if (t.device().is_cpu()) {
      f.write(t.data_ptr(), t.nbytes());
    } else {
      Tensor h = t.copy_to(cpu_device());
      f.write(h.data_ptr(), h.nbytes());
    }
  }
  f.commit();
}

namespace {

// One tensor entry of the header, validated: dtype known, shape non-negative, data_offsets two integers
// with begin <= end inside the data section, and end - begin == numel * itemsize, every product and sum
// checked for 64-bit overflow.
struct Entry {
  std::string name;
  Dtype dtype;
  Shape shape;
  uint64_t begin = 0, end = 0;
};

Entry parse_entry(const std::string& path, const std::string& name, const nlohmann::json& e, uint64_t data_size) {
  const std::string where = "[safetensors] " + path + ": tensor \"" + name + "\": ";
  TTT_CHECK(e.is_object(), where, "expected an object with dtype, shape and data_offsets; found ", e.dump());
  for (const char* key : {"dtype", "shape", "data_offsets"})
    TTT_CHECK(e.contains(key), where, "field '", key, "' is missing; found ", e.dump());
  TTT_CHECK(e["dtype"].is_string(), where, "field 'dtype': expected a string; found ", e["dtype"].dump());
  Entry out;
  out.name = name;
  out.dtype = from_st_dtype(e["dtype"].get<std::string>(), path, name);
  const nlohmann::json& js = e["shape"];
  TTT_CHECK(js.is_array(), where, "field 'shape': expected an array of non-negative integers; found ", js.dump());
  uint64_t numel = 1;  // of the non-zero dimensions: a tensor's strides multiply them even when it is empty
  bool overflow = false, zero = false;
  for (const auto& d : js) {
    TTT_CHECK(d.is_number_unsigned() || (d.is_number_integer() && d.get<int64_t>() >= 0), where,
              "field 'shape': expected non-negative integers; found ", js.dump());
    const uint64_t v = d.get<uint64_t>();
    TTT_CHECK(v <= static_cast<uint64_t>(INT64_MAX), where, "field 'shape': dimension ", v, " does not fit int64");
    zero = zero || v == 0;
    if (v != 0) overflow = overflow || __builtin_mul_overflow(numel, v, &numel);
    out.shape.push_back(static_cast<int64_t>(v));
  }
  overflow = overflow || numel > static_cast<uint64_t>(INT64_MAX);
  if (zero) numel = 0;
  uint64_t want = 0;
  overflow = overflow || __builtin_mul_overflow(numel, static_cast<uint64_t>(dtype_size(out.dtype)), &want);
  TTT_CHECK(!overflow, where, "field 'shape': ", js.dump(), " of ", st_dtype(out.dtype),
            " needs more bytes than 64 bits can count (the product of its non-zero dimensions must fit int64, even "
            "when a zero one makes it empty)");
  const nlohmann::json& jo = e["data_offsets"];
  TTT_CHECK(jo.is_array() && jo.size() == 2 && jo[0].is_number_unsigned() && jo[1].is_number_unsigned(), where,
            "field 'data_offsets': expected [begin, end], two non-negative integers; found ", jo.dump());
  out.begin = jo[0].get<uint64_t>();
  out.end = jo[1].get<uint64_t>();
  TTT_CHECK(out.begin <= out.end, where, "field 'data_offsets': expected begin <= end; found [", out.begin, ", ",
            out.end, "]");
  TTT_CHECK(out.end <= data_size, where, "field 'data_offsets': expected end <= ", data_size,
            " (the data bytes the file holds after its header); found end ", out.end, " (truncated file?)");
  TTT_CHECK(out.end - out.begin == want, where, "field 'data_offsets': shape ", js.dump(), " of ", st_dtype(out.dtype),
            " needs ", want, " bytes; found the range [", out.begin, ", ", out.end, "] of ", out.end - out.begin,
            " bytes");
  return out;
}

}  // namespace

SafetensorsFile load_safetensors(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  TTT_CHECK(f.good(), "[safetensors] cannot open ", path);
  f.seekg(0, std::ios::end);
  const uint64_t size = static_cast<uint64_t>(f.tellg());
  f.seekg(0);
  TTT_CHECK(size >= 8, "[safetensors] ", path, ": ", size, " bytes is too short for the 8-byte header length");
  uint64_t hlen = 0;
  f.read(reinterpret_cast<char*>(&hlen), 8);
  TTT_CHECK(hlen <= size - 8, "[safetensors] ", path, ": header length ", hlen, " exceeds the file size ", size);
  std::string hs(hlen, '\0');
  f.read(hs.data(), static_cast<std::streamsize>(hlen));
  TTT_CHECK_RT(f.good(), "[safetensors] ", path, ": cannot read the ", hlen, "-byte header");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(hs);
  } catch (const std::exception& e) {
    throw InvalidArgument("[safetensors] " + path + ": the header at bytes 8.." + std::to_string(8 + hlen) +
                          " is not valid JSON: " + e.what());
  }
  TTT_CHECK(header.is_object(), "[safetensors] ", path, ": the header must be a JSON object; found ",
            header.dump().substr(0, 200));
  const uint64_t data_start = 8 + hlen, data_size = size - data_start;
  SafetensorsFile out;
  std::vector<Entry> entries;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      TTT_CHECK(it->is_object(), "[safetensors] ", path,
                ": field '__metadata__': expected an object of strings; found ", it->dump());
      for (auto m = it->begin(); m != it->end(); ++m) {
        TTT_CHECK(m->is_string(), "[safetensors] ", path, ": field '__metadata__.", m.key(),
                  "': expected a string; found ", m->dump());
        out.metadata[m.key()] = m->get<std::string>();
      }
      continue;
    }
    entries.push_back(parse_entry(path, it.key(), *it, data_size));
  }
  // No two tensors may share bytes (a crafted file could alias them; the reference loader refuses too).
  std::vector<const Entry*> by_offset;
  for (const auto& e : entries)
    if (e.end > e.begin) by_offset.push_back(&e);
  std::sort(by_offset.begin(), by_offset.end(), [](const Entry* a, const Entry* b) { return a->begin < b->begin; });
  for (size_t i = 1; i < by_offset.size(); ++i)
    TTT_CHECK(by_offset[i]->begin >= by_offset[i - 1]->end, "[safetensors] ", path, ": field 'data_offsets': tensor \"",
              by_offset[i]->name, "\" [", by_offset[i]->begin, ", ", by_offset[i]->end, "] overlaps tensor \"",
              by_offset[i - 1]->name, "\" [", by_offset[i - 1]->begin, ", ", by_offset[i - 1]->end,
              "]; expected disjoint ranges");
  for (const auto& e : entries) {
    Tensor t = Tensor::empty(e.shape, e.dtype);
    f.seekg(static_cast<std::streamoff>(data_start + e.begin));
    f.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(e.end - e.begin));
    TTT_CHECK_RT(f.good() || e.end == e.begin, "[safetensors] ", path, ": read of tensor \"", e.name, "\" (data bytes ",
                 e.begin, "..", e.end, ") failed");
    out.tensors[e.name] = t;
  }
  return out;
}

}  // namespace tttlm::train
