// CUDA embedding. Forward: one thread per (token, channel). Backward without float atomics: a stable
// radix sort of (id, token) pairs (cub), segment bounds per id, then one thread per (v, c) summing its
// tokens in increasing token order. Out-of-range ids: zero rows forward, skipped backward (see the header).
#include <climits>
#if TTTLM_CUDA_EMU
#include "cudaemu/cub_radix_sort.h"
#else
#include <cub/device/device_radix_sort.cuh>
#endif

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/scratch.h"
#include "kernels/embedding.h"

namespace tttlm::kernels::cuda {

namespace {

template <class F>
void with_ids(Dtype id_dtype, const void* ids, const char* op, F&& body) {
  if (id_dtype == Dtype::i32) return body(static_cast<const int32_t*>(ids));
  if (id_dtype == Dtype::i64) return body(static_cast<const int64_t*>(ids));
  throw InvalidArgument(detail::concat("[", op, "] ids must be i32 or i64, got ", dtype_name(id_dtype)));
}

template <class T, class I>
__global__ void embedding_forward_kernel(const T* w, const I* ids, T* y, int64_t N, int64_t V, int64_t C) {
  const int64_t n_el = N * C;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n_el; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t id = static_cast<int64_t>(ids[i / C]);
    y[i] = id >= 0 && id < V ? w[id * C + i % C] : T(0);
  }
}

__global__ void iota_kernel(int64_t* v, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    v[i] = i;
}

// keys sorted ascending; start[v], end[v] bound the run of id v (both stay 0 for an absent id).
template <class I>
__global__ void segment_bounds_kernel(const I* keys, int64_t* start, int64_t* end, int64_t N, int64_t V) {
  for (int64_t j = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; j < N; j += (int64_t)gridDim.x * blockDim.x) {
    const int64_t k = static_cast<int64_t>(keys[j]);
    if (k < 0 || k >= V) continue;
    if (j == 0 || static_cast<int64_t>(keys[j - 1]) != k) start[k] = j;
    if (j == N - 1 || static_cast<int64_t>(keys[j + 1]) != k) end[k] = j + 1;
  }
}

template <class T>
__global__ void embedding_backward_rows_kernel(const T* dy, const int64_t* order, const int64_t* start,
                                               const int64_t* end, T* dweight, int64_t V, int64_t C) {
  using A = typename Acc<T>::type;
  const int64_t n_el = V * C;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n_el; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t v = i / C, c = i % C;
    A s = 0;
    for (int64_t j = start[v]; j < end[v]; ++j) s += ld(dy, order[j] * C + c);
    st(dweight, i, s);
  }
}

}  // namespace

void embedding_forward(Dtype dtype, Dtype id_dtype, const void* weight, const void* ids, void* y, int64_t N, int64_t V,
                       int64_t C) {
  if (N * C == 0) return;
  TTT_CUDA_DISPATCH_FLOAT(dtype, "embedding", [&] {
    with_ids(id_dtype, ids, "embedding", [&](auto I) {
      TTT_LAUNCH(grid_for(N * C), 256, 0, stream(), embedding_forward_kernel)
      (static_cast<const scalar_t*>(weight), I, static_cast<scalar_t*>(y), N, V, C);
      TTT_CUDA_CHECK_LAUNCH();
    });
  });
}

void embedding_backward(Dtype dtype, Dtype id_dtype, const void* dy, const void* ids, void* dweight, int64_t N,
                        int64_t V, int64_t C) {
  if (V * C == 0) return;
  TTT_CHECK(N < INT_MAX, "[embedding_backward] at most ", INT_MAX, " tokens on CUDA, got ", N);
  const int dev = cuda_current_device();
  TTT_CUDA_DISPATCH_FLOAT(dtype, "embedding_backward", [&] {
    with_ids(id_dtype, ids, "embedding_backward", [&](auto I) {
      using I_t = std::remove_const_t<std::remove_pointer_t<decltype(I)>>;
      const size_t n = static_cast<size_t>(N > 0 ? N : 1);
      Scratch keys_out(n * sizeof(I_t), dev), order_in(n * sizeof(int64_t), dev), order_out(n * sizeof(int64_t), dev),
          bounds(2 * static_cast<size_t>(V) * sizeof(int64_t), dev);
      int64_t* start = bounds.as<int64_t>();
      int64_t* end = start + V;
      TTT_CUDA_CHECK(cudaMemsetAsync(start, 0, 2 * static_cast<size_t>(V) * sizeof(int64_t), stream()));
      if (N > 0) {
        TTT_LAUNCH(grid_for(N), 256, 0, stream(), iota_kernel)(order_in.as<int64_t>(), N);
        TTT_CUDA_CHECK_LAUNCH();
        // LSD radix sort is stable: equal ids keep increasing token order.
        size_t temp_bytes = 0;
        TTT_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, I, keys_out.as<I_t>(),
                                                       order_in.as<int64_t>(), order_out.as<int64_t>(),
                                                       static_cast<int>(N), 0, int(sizeof(I_t) * 8), stream()));
        // At least one byte: cub reads a null temporary pointer as another size query.
        Scratch temp(temp_bytes > 0 ? temp_bytes : 1, dev);
        TTT_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp.get(), temp_bytes, I, keys_out.as<I_t>(),
                                                       order_in.as<int64_t>(), order_out.as<int64_t>(),
                                                       static_cast<int>(N), 0, int(sizeof(I_t) * 8), stream()));
        TTT_LAUNCH(grid_for(N), 256, 0, stream(), segment_bounds_kernel)(keys_out.as<I_t>(), start, end, N, V);
        TTT_CUDA_CHECK_LAUNCH();
      }
      TTT_LAUNCH(grid_for(V * C), 256, 0, stream(), embedding_backward_rows_kernel)
      (static_cast<const scalar_t*>(dy), order_out.as<int64_t>(), start, end, static_cast<scalar_t*>(dweight), V, C);
      TTT_CUDA_CHECK_LAUNCH();
    });
  });
}

}  // namespace tttlm::kernels::cuda
