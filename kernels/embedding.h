// Embedding lookup and its deterministic backward. weight (V, C) and y (N, C) are contiguous; ids (N) are
// i32 or i64. The CPU kernels trust their ids (the op checks them first, naming the bad position). CUDA
// cannot check without a sync: an id outside [0, V) gives a zero row in forward and is skipped in backward.
// Backward overwrites dweight: dweight[v] = sum of dy[n] over the tokens n with ids[n] == v, added in
// increasing n (a stable sort of the tokens by id, then one pass per row), so the result has no float
// atomics and repeats bit for bit on every thread count. Sums in double on the CPU, f32 (f64) on CUDA.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "kernels/declare.h"

// y[n, :] = weight[ids[n], :].
TTT_KERNEL(embedding_forward, (Dtype dtype, Dtype id_dtype, const void* weight, const void* ids, void* y, int64_t N,
                               int64_t V, int64_t C));
// dweight (V, C) = scatter-add of dy (N, C) by ids (overwrites).
TTT_KERNEL(embedding_backward, (Dtype dtype, Dtype id_dtype, const void* dy, const void* ids, void* dweight, int64_t N,
                                int64_t V, int64_t C));
