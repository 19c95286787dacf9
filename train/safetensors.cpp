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
    case Dtype::f32: return "F32";
    case Dtype::bf16: return "BF16";
    case Dtype::f64: return "F64";
    case Dtype::i32: return "I32";
    case Dtype::i64: return "I64";
    case Dtype::u16: return "U16";
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

}  // namespace

void write_file_atomic(const std::string& path, const std::string& bytes) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  TTT_CHECK_RT(fd >= 0, "[write] cannot create ", tmp, ": ", std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw RuntimeError("[write] writing " + tmp + " failed after " + std::to_string(done) + " bytes: " + std::strerror(e));
    }
    done += static_cast<size_t>(n);
  }
  TTT_CHECK_RT(::fsync(fd) == 0, "[write] fsync of ", tmp, " failed: ", std::strerror(errno));
  ::close(fd);
  TTT_CHECK_RT(::rename(tmp.c_str(), path.c_str()) == 0, "[write] rename ", tmp, " -> ", path, " failed: ",
               std::strerror(errno));
  fsync_dir(path);
}

void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<Tensor> host;
  size_t offset = 0;
  for (const auto& [name, t] : tensors) {
    TTT_CHECK(t.defined(), "[safetensors] tensor \"", name, "\" is undefined");
    Tensor h = t.is_contiguous() ? t : Tensor();
    TTT_CHECK(h.defined(), "[safetensors] tensor \"", name, "\" must be contiguous, got ", t.describe());
    if (!h.device().is_cpu()) h = h.copy_to(cpu_device());
    header[name] = {{"dtype", st_dtype(h.dtype())}, {"shape", h.shape()}, {"data_offsets", {offset, offset + h.nbytes()}}};
    offset += h.nbytes();
    host.push_back(h);
  }
  std::string hs = header.dump();
  while (hs.size() % 8) hs += ' ';  // align the data to 8 bytes, as the reference writer does
  std::string bytes;
  bytes.reserve(8 + hs.size() + offset);
  uint64_t n = hs.size();
  bytes.append(reinterpret_cast<const char*>(&n), 8);
  bytes += hs;
  for (const auto& h : host) bytes.append(static_cast<const char*>(h.data_ptr()), h.nbytes());
  write_file_atomic(path, bytes);
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
  uint64_t numel = 1;
  bool overflow = false, zero = false;
  for (const auto& d : js) {
    TTT_CHECK(d.is_number_unsigned() || (d.is_number_integer() && d.get<int64_t>() >= 0), where,
              "field 'shape': expected non-negative integers; found ", js.dump());
    const uint64_t v = d.get<uint64_t>();
    TTT_CHECK(v <= static_cast<uint64_t>(INT64_MAX), where, "field 'shape': dimension ", v, " does not fit int64");
    zero = zero || v == 0;
    overflow = overflow || __builtin_mul_overflow(numel, v, &numel);
    out.shape.push_back(static_cast<int64_t>(v));
  }
  if (zero) numel = 0, overflow = false;
  uint64_t want = 0;
  overflow = overflow || __builtin_mul_overflow(numel, static_cast<uint64_t>(dtype_size(out.dtype)), &want) ||
             numel > static_cast<uint64_t>(INT64_MAX);
  TTT_CHECK(!overflow, where, "field 'shape': ", js.dump(), " of ", st_dtype(out.dtype),
            " needs more bytes than 64 bits can count");
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
      TTT_CHECK(it->is_object(), "[safetensors] ", path, ": field '__metadata__': expected an object of strings; found ",
                it->dump());
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
    TTT_CHECK_RT(f.good() || e.end == e.begin, "[safetensors] ", path, ": read of tensor \"", e.name,
                 "\" (data bytes ", e.begin, "..", e.end, ") failed");
    out.tensors[e.name] = t;
  }
  return out;
}

}  // namespace tttlm::train
