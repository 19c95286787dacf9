// Tensor: a cheap handle (shared_ptr) to a TensorImpl, which holds refcounted Storage plus view metadata
// (shape, strides in elements, offset in elements, dtype). Copies of a handle share everything, including
// autograd state; views share only the storage. The device lives with the storage.
//
// Contiguity: is_contiguous() is true when the strides equal contiguous_strides(shape), ignoring the
// stride of every size-1 dimension; offset may be non-zero. Computed once at construction.
//
// Tensor itself does no math (that is kernels/ and autograd/ops). Core offers raw views (core/view.h),
// allocation, fills, host<->device copies of contiguous tensors and element access for tests.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/shape.h"

namespace tttlm {

namespace autograd {
struct Node;
}

class Storage {
 public:
  Storage(size_t nbytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_;
};

struct TensorImpl;
class Tensor;

// Autograd state of one tensor; filled in by autograd/, opaque to core.
struct AutogradMeta {
  bool requires_grad = false;
  std::shared_ptr<autograd::Node> grad_fn;             // null for leaves
  uint32_t output_nr = 0;                              // which output of grad_fn this tensor is
  std::shared_ptr<TensorImpl> grad;                    // accumulated gradient of a leaf
  std::string name;                                    // parameter name, for messages
  std::weak_ptr<autograd::Node> grad_accumulator;      // the leaf's AccumulateGrad node while a graph uses it
  std::function<void(const Tensor&)> grad_ready_hook;  // called once a backward pass finished this leaf's grad
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Strides strides;
  int64_t offset = 0;
  Dtype dtype = Dtype::f32;
  bool contiguous = true;
  AutogradMeta autograd;
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // Uninitialised memory.
  static Tensor empty(const Shape& shape, Dtype dtype, Device device = cpu_device());
  static Tensor zeros(const Shape& shape, Dtype dtype, Device device = cpu_device());
  // A scalar-filled tensor (any dtype; the value is converted).
  static Tensor full(const Shape& shape, double value, Dtype dtype, Device device = cpu_device());
  // A CPU tensor holding a copy of `values` (numel must match shape).
  template <class T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape);
  // A view over existing storage.
  static Tensor from_storage(std::shared_ptr<Storage> storage, const Shape& shape, const Strides& strides,
                             int64_t offset, Dtype dtype);

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  const Strides& strides() const { return impl().strides; }
  int64_t ndim() const { return static_cast<int64_t>(impl().shape.size()); }
  int64_t size(int64_t dim) const;  // negative dims count from the end
  int64_t stride(int64_t dim) const;
  int64_t numel() const { return shape_numel(impl().shape); }
  int64_t offset() const { return impl().offset; }
  Dtype dtype() const { return impl().dtype; }
  Device device() const { return impl().storage->device(); }
  size_t nbytes() const { return numel() * dtype_size(dtype()); }
  bool is_contiguous() const { return impl().contiguous; }
  const std::shared_ptr<Storage>& storage() const { return impl().storage; }

  // Pointer to element 0 of this view.
  void* data_ptr() const;
  // Typed pointer; throws when T does not match the dtype.
  template <class T>
  T* data() const;

  // Element access for tests and small host code (CPU only, any strides).
  double item() const;  // numel must be 1
  template <class T>
  std::vector<T> to_vector() const;  // values converted to T, in row-major order of this view
  double at(const std::vector<int64_t>& index) const;

  // A copy of this (contiguous) tensor on another device. Use ops::to() for strided or differentiable copies.
  Tensor copy_to(Device device) const;
  // A new handle on the same storage and view, with no autograd state.
  Tensor detach() const;

  // Autograd state (meaningful to autograd/; plain data here).
  bool requires_grad() const { return defined() && impl().autograd.requires_grad; }
  Tensor& set_requires_grad(bool value);
  Tensor grad() const;
  void set_grad(const Tensor& g);
  AutogradMeta& autograd_meta() const { return impl().autograd; }

  // "f32 (2, 3) on cpu", for error messages.
  std::string describe() const;

  TensorImpl& impl() const {
    TTT_CHECK(impl_ != nullptr, "[tensor] use of an undefined tensor");
    return *impl_;
  }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const Tensor& o) const { return impl_ == o.impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

bool compute_contiguous(const Shape& shape, const Strides& strides);

template <class T>
Tensor Tensor::from_vector(const std::vector<T>& values, const Shape& shape) {
  TTT_CHECK(static_cast<int64_t>(values.size()) == shape_numel(shape), "[from_vector] ", values.size(),
            " values do not fill shape ", shape_str(shape));
  Tensor t = empty(shape, DtypeOf<T>::value);
  std::copy(values.begin(), values.end(), t.data<T>());
  return t;
}

template <class T>
T* Tensor::data() const {
  TTT_CHECK(DtypeOf<T>::value == dtype(), "[tensor] data<", dtype_name(DtypeOf<T>::value), ">() called on a ",
            describe());
  return static_cast<T*>(data_ptr());
}

}  // namespace tttlm
