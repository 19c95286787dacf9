// safetensors files (https://huggingface.co/docs/safetensors): an 8-byte little-endian header length, a
// JSON header {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}, then
// the raw little-endian data. We write F32, BF16, F64, I32, I64, U16 and read the same; tensors come back
// on the CPU. Errors name the file, the tensor and the byte offsets.
#pragma once

#include <map>
#include <string>

#include "core/tensor.h"

namespace tttlm::train {

struct SafetensorsFile {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> metadata;
};

// Writes atomically: to a temporary file next to PATH, fsync, rename. Streams the header, then each tensor's
// bytes in name order, so the extra memory is the header (plus one host copy of a CUDA tensor at a time),
// not the file.
void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});
SafetensorsFile load_safetensors(const std::string& path);

// Writes `bytes` to `path` through a temporary file in the same directory, fsynced, then renamed over
// `path`, so a crash leaves either the old or the new file, never a torn one.
void write_file_atomic(const std::string& path, const std::string& bytes);

}  // namespace tttlm::train
