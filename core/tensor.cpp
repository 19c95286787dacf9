#include "core/tensor.h"

#include <cstring>

#include "core/allocator.h"
#include "core/cuda_runtime.h"

namespace tttlm {

Storage::Storage(size_t nbytes, Device device) : nbytes_(nbytes), device_(device) {
  data_ = device.is_cpu() ? cpu_alloc(nbytes) : cuda_alloc(nbytes, device.index);
}

Storage::~Storage() {
  if (device_.is_cpu())
    cpu_free(data_);
  else
    cuda_free(data_, device_.index);
}

bool compute_contiguous(const Shape& shape, const Strides& strides) {
  int64_t expected = 1;
  for (int64_t i = static_cast<int64_t>(shape.size()) - 1; i >= 0; --i) {
    if (shape[i] == 1) continue;
    if (strides[i] != expected) return false;
    expected *= shape[i];
  }
  return true;
}

Tensor Tensor::from_storage(std::shared_ptr<Storage> storage, const Shape& shape, const Strides& strides,
                            int64_t offset, Dtype dtype) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::move(storage);
  impl->shape = shape;
  impl->strides = strides;
  impl->offset = offset;
  impl->dtype = dtype;
  impl->contiguous = compute_contiguous(shape, strides);
  return Tensor(std::move(impl));
}

Tensor Tensor::empty(const Shape& shape, Dtype dtype, Device device) {
  for (auto d : shape) TTT_CHECK(d >= 0, "[empty] negative dimension in shape ", shape_str(shape));
  auto storage = std::make_shared<Storage>(shape_numel(shape) * dtype_size(dtype), device);
  return from_storage(std::move(storage), shape, contiguous_strides(shape), 0, dtype);
}

Tensor Tensor::zeros(const Shape& shape, Dtype dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  if (device.is_cpu())
    std::memset(t.data_ptr(), 0, t.nbytes());
  else
    cuda_memset_zero(t.data_ptr(), t.nbytes());
  return t;
}

namespace {
template <class T>
void fill_host(void* p, int64_t n, double v) {
  T* x = static_cast<T*>(p);
  T val = static_cast<T>(v);
  for (int64_t i = 0; i < n; ++i) x[i] = val;
}
template <>
void fill_host<bf16_t>(void* p, int64_t n, double v) {
  bf16_t* x = static_cast<bf16_t*>(p);
  bf16_t val(static_cast<float>(v));
  for (int64_t i = 0; i < n; ++i) x[i] = val;
}
void fill_any(void* p, int64_t n, Dtype d, double v) {
  switch (d) {
    case Dtype::f32:
      fill_host<float>(p, n, v);
      break;
    case Dtype::bf16:
      fill_host<bf16_t>(p, n, v);
      break;
    case Dtype::f64:
      fill_host<double>(p, n, v);
      break;
    case Dtype::i32:
      fill_host<int32_t>(p, n, v);
      break;
    case Dtype::i64:
      fill_host<int64_t>(p, n, v);
      break;
    case Dtype::u16:
      fill_host<uint16_t>(p, n, v);
      break;
  }
}
template <class T>
double load_as_double(const void* p, int64_t i) {
  return static_cast<double>(static_cast<const T*>(p)[i]);
}
double load_any(const void* p, int64_t i, Dtype d) {
  switch (d) {
    case Dtype::f32:
      return load_as_double<float>(p, i);
    case Dtype::bf16:
      return bf16_t::to_float(static_cast<const uint16_t*>(p)[i]);
    case Dtype::f64:
      return load_as_double<double>(p, i);
    case Dtype::i32:
      return load_as_double<int32_t>(p, i);
    case Dtype::i64:
      return load_as_double<int64_t>(p, i);
    case Dtype::u16:
      return load_as_double<uint16_t>(p, i);
  }
  return 0;
}
}  // namespace

Tensor Tensor::full(const Shape& shape, double value, Dtype dtype, Device device) {
  Tensor host = empty(shape, dtype);
  fill_any(host.data_ptr(), host.numel(), dtype, value);
  return device.is_cpu() ? host : host.copy_to(device);
}

int64_t Tensor::size(int64_t dim) const { return impl().shape[normalize_dim(dim, ndim(), "size")]; }
int64_t Tensor::stride(int64_t dim) const { return impl().strides[normalize_dim(dim, ndim(), "stride")]; }

void* Tensor::data_ptr() const {
  return static_cast<char*>(impl().storage->data()) + impl().offset * static_cast<int64_t>(dtype_size(dtype()));
}

double Tensor::at(const std::vector<int64_t>& index) const {
  TTT_CHECK(device().is_cpu(), "[at] needs a CPU tensor, got ", describe());
  TTT_CHECK(static_cast<int64_t>(index.size()) == ndim(), "[at] index of rank ", index.size(), " for ", describe());
  int64_t off = 0;
  for (int64_t i = 0; i < ndim(); ++i) {
    TTT_CHECK(index[i] >= 0 && index[i] < shape()[i], "[at] index ", index[i], " out of range in dimension ", i, " of ",
              describe());
    off += index[i] * strides()[i];
  }
  return load_any(data_ptr(), off, dtype());
}

double Tensor::item() const {
  TTT_CHECK(numel() == 1, "[item] needs exactly one element, got ", describe());
  if (!device().is_cpu()) return copy_to(cpu_device()).item();
  return load_any(data_ptr(), 0, dtype());
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  if (!device().is_cpu()) {
    TTT_CHECK(is_contiguous(), "[to_vector] a CUDA tensor must be contiguous, got strides of ", describe());
    return copy_to(cpu_device()).to_vector<T>();
  }
  std::vector<T> out(numel());
  const Shape& s = shape();
  std::vector<int64_t> idx(s.size(), 0);
  int64_t off = 0;
  for (int64_t n = 0; n < numel(); ++n) {
    double v = load_any(data_ptr(), off, dtype());
    out[n] = static_cast<T>(v);
    for (int64_t d = static_cast<int64_t>(s.size()) - 1; d >= 0; --d) {
      if (++idx[d] < s[d]) {
        off += strides()[d];
        break;
      }
      off -= strides()[d] * (s[d] - 1);
      idx[d] = 0;
    }
  }
  return out;
}
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<int32_t> Tensor::to_vector<int32_t>() const;
template std::vector<int64_t> Tensor::to_vector<int64_t>() const;

Tensor Tensor::copy_to(Device device) const {
  TTT_CHECK(is_contiguous(), "[copy_to] needs a contiguous tensor, got ", describe(), " with strides ",
            shape_str(strides()), "; use ops::contiguous first");
  Tensor out = empty(shape(), dtype(), device);
  if (device.is_cpu() && this->device().is_cpu()) {
    std::memcpy(out.data_ptr(), data_ptr(), nbytes());
  } else {
    CopyKind k = device.is_cpu()           ? CopyKind::device_to_host
                 : this->device().is_cpu() ? CopyKind::host_to_device
                                           : CopyKind::device_to_device;
    cuda_memcpy(out.data_ptr(), data_ptr(), nbytes(), k);
  }
  return out;
}

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = this->impl().storage;
  impl->shape = shape();
  impl->strides = strides();
  impl->offset = offset();
  impl->dtype = dtype();
  impl->contiguous = is_contiguous();
  return Tensor(std::move(impl));
}

Tensor& Tensor::set_requires_grad(bool value) {
  TTT_CHECK(!value || dtype_is_float(dtype()),
            "[set_requires_grad] only floating tensors can require "
            "gradients, got ",
            describe());
  impl().autograd.requires_grad = value;
  return *this;
}

Tensor Tensor::grad() const { return Tensor(impl().autograd.grad); }
void Tensor::set_grad(const Tensor& g) { impl().autograd.grad = g.impl_ptr(); }

std::string Tensor::describe() const {
  if (!defined()) return "undefined tensor";
  return std::string(dtype_name(dtype())) + " " + shape_str(shape()) + " on " + device().str();
}

}  // namespace tttlm
