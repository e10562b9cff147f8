// tensor.h - A reference-counted, 64-byte-aligned n-dimensional array.
//
// Copying a Tensor shares its buffer (like TensorFlow's Tensor); use DeepCopy for a private
// copy. Kernels see element data through data<T>() / flat<T>().
//
// DT_STRING tensors hold std::string elements (data<std::string>()), constructed empty when the
// buffer is allocated and destroyed when its last reference goes; they always live in host
// memory. Their TotalBytes() is 0 (no fixed-size element data), so byte-copying code sees
// nothing to copy; kernels that move string elements must do so element by element.
#ifndef WEIR_RUNTIME_TENSOR_H_
#define WEIR_RUNTIME_TENSOR_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "graph/shape.h"
#include "graph/types.h"
#include "proto/tensor.pb.h"
#include "runtime/allocator.h"

namespace weir {

// Owns one allocation and returns it to its allocator when the last reference goes: the
// header that Tensors sharing a buffer point at, with an intrusive reference count (no
// shared_ptr control block). Headers are recycled through per-thread free lists, so making a
// tensor in steady state takes nothing from the system allocator -- its data block comes from
// the caching allocator, its header from the free list. A DT_STRING buffer constructs its
// std::string elements when made and destroys them before the block goes back.
class TensorBuffer {
 public:
  // A buffer of `bytes` from `allocator` with one reference; data() is null when the allocator
  // is out of memory (ok() is false then).
  static TensorBuffer* New(Allocator* allocator, size_t bytes);
  // `count` empty strings in host memory.
  static TensorBuffer* NewStrings(int64_t count);

  TensorBuffer(const TensorBuffer&) = delete;
  TensorBuffer& operator=(const TensorBuffer&) = delete;

  void* data() const { return data_; }
  size_t size() const { return bytes_; }
  Allocator* allocator() const { return allocator_; }
  bool ok() const { return data_ != nullptr || bytes_ == 0; }

  void Ref() const { refs_.fetch_add(1, std::memory_order_relaxed); }
  // Drops a reference; the last one frees the data and recycles the header.
  void Unref() const {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) Destroy();
  }
  bool RefCountIsOne() const { return refs_.load(std::memory_order_acquire) == 1; }

 private:
  friend class TensorBufferPool;
  TensorBuffer() = default;
  void Destroy() const;

  Allocator* allocator_ = nullptr;
  void* data_ = nullptr;
  size_t bytes_ = 0;
  int64_t num_strings_ = 0;  // DT_STRING: std::string objects constructed in data_
  mutable std::atomic<int32_t> refs_{0};
  TensorBuffer* next_free_ = nullptr;  // while on a free list
};

class Tensor {
 public:
  Tensor() : dtype_(DT_INVALID) {}
  Tensor(const Tensor& other) : dtype_(other.dtype_), shape_(other.shape_), buffer_(other.buffer_) {
    if (buffer_ != nullptr) buffer_->Ref();
  }
  Tensor(Tensor&& other) noexcept
      : dtype_(other.dtype_), shape_(std::move(other.shape_)), buffer_(other.buffer_) {
    other.dtype_ = DT_INVALID;
    other.buffer_ = nullptr;
  }
  Tensor& operator=(const Tensor& other) {
    if (other.buffer_ != nullptr) other.buffer_->Ref();
    if (buffer_ != nullptr) buffer_->Unref();
    dtype_ = other.dtype_;
    shape_ = other.shape_;
    buffer_ = other.buffer_;
    return *this;
  }
  Tensor& operator=(Tensor&& other) noexcept {
    if (this != &other) {
      if (buffer_ != nullptr) buffer_->Unref();
      dtype_ = other.dtype_;
      shape_ = std::move(other.shape_);
      buffer_ = other.buffer_;
      other.dtype_ = DT_INVALID;
      other.buffer_ = nullptr;
    }
    return *this;
  }
  ~Tensor() {
    if (buffer_ != nullptr) buffer_->Unref();
  }
  // Allocates an uninitialized tensor from the host allocator (DT_STRING: empty strings).
  Tensor(DataType dtype, TensorShape shape);
  Tensor(Allocator* allocator, DataType dtype, TensorShape shape);

  // Builds a tensor from values (row-major); CHECKs that the count matches the shape.
  template <typename T>
  static Tensor FromVector(const std::vector<T>& values, TensorShape shape);
  template <typename T>
  static Tensor Scalar(T value) {
    return FromVector<T>({value}, TensorShape{});
  }

  bool IsInitialized() const { return dtype_ != DT_INVALID && (buffer_ != nullptr || num_elements() == 0); }
  DataType dtype() const { return dtype_; }
  const TensorShape& shape() const { return shape_; }
  int rank() const { return shape_.rank(); }
  int64_t dim(int i) const { return shape_.dim(i); }
  int64_t num_elements() const { return shape_.num_elements(); }
  // Bytes of fixed-size element data; 0 for DT_STRING.
  size_t TotalBytes() const { return static_cast<size_t>(num_elements()) * DataTypeSize(dtype_); }

  void* raw_data() const { return buffer_ ? buffer_->data() : nullptr; }
  template <typename T>
  T* data() const {
    return static_cast<T*>(raw_data());
  }
  template <typename T>
  absl::Span<T> flat() const {
    return absl::Span<T>(data<T>(), static_cast<size_t>(num_elements()));
  }

  // Same buffer, new shape with the same element count (CHECKed).
  Tensor Reshaped(TensorShape shape) const;
  bool SharesBufferWith(const Tensor& other) const { return buffer_ == other.buffer_; }
  // The allocator the buffer came from; null without a buffer.
  Allocator* allocator() const { return buffer_ ? buffer_->allocator() : nullptr; }
  // True when no other Tensor shares the buffer (an in-place update is invisible to others).
  bool RefCountIsOne() const { return buffer_ != nullptr && buffer_->RefCountIsOne(); }
  Tensor DeepCopy() const;

  // Decodes tensor_content or the typed value fields, string_val for DT_STRING (the last
  // value repeats to fill the shape, as in TensorFlow). Errors say what is inconsistent.
  static absl::StatusOr<Tensor> FromProto(const TensorProto& proto);
  // Writes tensor_content (compact) for numeric types, string_val for DT_STRING.
  void ToProto(TensorProto* proto) const;

  // "float [2,3] [[1,2,3],[4,5,6]]", summarized past `max_elements` values; strings are quoted
  // and C-escaped: string [2] ["a", "b\n"].
  std::string DebugString(int max_elements = 64) const;
  // Values only, without dtype and shape.
  std::string ValuesString(int max_elements = 64) const;

 private:
  DataType dtype_;
  TensorShape shape_;
  TensorBuffer* buffer_ = nullptr;  // one reference held
};

template <typename T>
Tensor Tensor::FromVector(const std::vector<T>& values, TensorShape shape) {
  Tensor t(DataTypeToEnum<T>::value, std::move(shape));
  if (static_cast<int64_t>(values.size()) != t.num_elements()) {
    fprintf(stderr, "Tensor::FromVector: %zu values for shape %s\n", values.size(),
            t.shape().ToString().c_str());
    abort();
  }
  T* out = t.data<T>();
  for (size_t i = 0; i < values.size(); ++i) out[i] = values[i];
  return t;
}

}  // namespace weir

#endif  // WEIR_RUNTIME_TENSOR_H_
