// Where a tensor's storage lives. The CUDA runtime helpers (availability, copies, streams, the check macro)
// are in core/cuda_runtime.h; they compile to clear errors when the build has no CUDA.
#pragma once

#include <string>

namespace tttlm {

enum class DeviceType : uint8_t { cpu, cuda };

struct Device {
  DeviceType type = DeviceType::cpu;
  int index = 0;
  bool is_cpu() const { return type == DeviceType::cpu; }
  bool is_cuda() const { return type == DeviceType::cuda; }
  bool operator==(const Device& o) const { return type == o.type && (type == DeviceType::cpu || index == o.index); }
  bool operator!=(const Device& o) const { return !(*this == o); }
  std::string str() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index); }
};

inline Device cpu_device() { return {DeviceType::cpu, 0}; }
inline Device cuda_device(int index = 0) { return {DeviceType::cuda, index}; }

}  // namespace tttlm
