#include "train/safetensors.h"

#include <fcntl.h>
#include <unistd.h>

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
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(hs);
  } catch (const std::exception& e) {
    throw InvalidArgument("[safetensors] " + path + ": the header at bytes 8.." + std::to_string(8 + hlen) +
                          " is not valid JSON: " + e.what());
  }
  const uint64_t data_start = 8 + hlen, data_size = size - data_start;
  SafetensorsFile out;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      for (auto m = it->begin(); m != it->end(); ++m) out.metadata[m.key()] = m->get<std::string>();
      continue;
    }
    const auto& e = *it;
    Dtype d = from_st_dtype(e.at("dtype").get<std::string>(), path, it.key());
    Shape shape = e.at("shape").get<Shape>();
    uint64_t b = e.at("data_offsets")[0].get<uint64_t>(), en = e.at("data_offsets")[1].get<uint64_t>();
    uint64_t want = static_cast<uint64_t>(shape_numel(shape)) * dtype_size(d);
    TTT_CHECK(en >= b && en - b == want, "[safetensors] ", path, ": tensor \"", it.key(), "\" ", shape_str(shape), " ",
              dtype_name(d), " needs ", want, " bytes but its data_offsets [", b, ", ", en, "] span ", en - b);
    TTT_CHECK(en <= data_size, "[safetensors] ", path, ": tensor \"", it.key(), "\" ends at data byte ", en,
              " but the file holds only ", data_size, " data bytes (truncated file?)");
    Tensor t = Tensor::empty(shape, d);
    f.seekg(static_cast<std::streamoff>(data_start + b));
    f.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(want));
    TTT_CHECK_RT(f.good(), "[safetensors] ", path, ": read of tensor \"", it.key(), "\" failed");
    out.tensors[it.key()] = t;
  }
  return out;
}

}  // namespace tttlm::train
