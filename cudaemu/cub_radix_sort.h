// cub::DeviceRadixSort::SortPairs for the CUDA emulator, with CUB's calling protocol: a first call with
// d_temp_storage == nullptr only reports the temporary bytes it needs; the second call checks that it got
// them (and that every buffer is device memory of the right size), scribbles over the temporary storage
// as the real sort would, and sorts stably by the key bits [begin_bit, end_bit), signed keys in signed
// order (CUB flips their sign bit).
#pragma once

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <string>
#include <type_traits>
#include <vector>

#include "cudaemu/block.h"
#include "cudaemu/memory.h"

namespace cub {

struct DeviceRadixSort {
  template <class K, class V, class N>
  static cudaError_t SortPairs(void* d_temp_storage, size_t& temp_storage_bytes, const K* keys_in, K* keys_out,
                               const V* values_in, V* values_out, N num_items, int begin_bit = 0,
                               int end_bit = sizeof(K) * 8, cudaStream_t = nullptr) {
    static_assert(std::is_integral_v<K>, "the emulated radix sort takes integer keys");
    const size_t n = num_items > 0 ? static_cast<size_t>(num_items) : 0;
    const size_t need = 2 * n * (sizeof(K) + sizeof(V)) + 256;
    if (d_temp_storage == nullptr) {
      temp_storage_bytes = need;
      return cudaSuccess;
    }
    auto fail = [](const std::string& why) {
      ::tttlm::cudaemu::record_error(cudaErrorInvalidValue, "cub::DeviceRadixSort::SortPairs: " + why);
      return cudaErrorInvalidValue;
    };
    if (temp_storage_bytes < need || !::tttlm::cudaemu::is_device_range(d_temp_storage, need))
      return fail("temporary storage smaller than the size query returned, or not device memory");
    if (begin_bit < 0 || end_bit > int(sizeof(K) * 8) || begin_bit >= end_bit) return fail("bad bit range");
    if (n == 0) return cudaSuccess;
    const void* bufs[4] = {keys_in, keys_out, values_in, values_out};
    const size_t sizes[4] = {n * sizeof(K), n * sizeof(K), n * sizeof(V), n * sizeof(V)};
    for (int i = 0; i < 4; ++i) {
      std::string why = ::tttlm::cudaemu::describe_range(bufs[i], sizes[i]);
      if (!why.empty()) return fail("buffer " + std::to_string(i) + " " + why);
    }
    using U = std::make_unsigned_t<K>;
    const U flip = std::is_signed_v<K> ? U(U(1) << (sizeof(K) * 8 - 1)) : U(0);
    const int bits = end_bit - begin_bit;
    const U mask = bits >= int(sizeof(U) * 8) ? U(~U(0)) : U((U(1) << bits) - 1);
    std::vector<U> key(n);
    for (size_t i = 0; i < n; ++i) key[i] = U((U(keys_in[i]) ^ flip) >> begin_bit) & mask;
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t(0));
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return key[a] < key[b]; });
    std::vector<K> k(keys_in, keys_in + n);
    std::vector<V> v(values_in, values_in + n);
    std::memset(d_temp_storage, 0xFF, need);
    for (size_t i = 0; i < n; ++i) {
      keys_out[i] = k[order[i]];
      values_out[i] = v[order[i]];
    }
    return cudaSuccess;
  }
};

}  // namespace cub
