// Device memory of the CUDA emulator: every cudaMalloc is an exact-size heap block (so AddressSanitizer
// sees overruns), 256-byte aligned like the driver's, filled with 0xFF bytes (NaN in every float type) so
// that reading memory nobody wrote shows up as NaN. The registry answers "is this range device memory?",
// which the copies, cuBLASLt, CUB and NCCL stand-ins ask before touching a pointer.
#pragma once

#include <cstddef>
#include <string>

namespace tttlm::cudaemu {

void* device_alloc(size_t bytes, int device);
bool device_free(void* p);  // false when p is not the start of a live allocation
// True when [p, p + bytes) lies inside one live device allocation.
bool is_device_range(const void* p, size_t bytes);
// "" when [p, p + bytes) is device memory, else a sentence saying what it is (for error messages).
std::string describe_range(const void* p, size_t bytes);
size_t device_bytes_in_use(int device);
// Device-to-host copies so far in this process: each one is a device sync on a GPU (tests count them).
size_t device_to_host_copies();
void count_device_to_host_copy();

}  // namespace tttlm::cudaemu
