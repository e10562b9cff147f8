// tensor.cc - Tensor buffers, proto conversion and printing.
#include "runtime/tensor.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include "absl/base/optimization.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace weir {

// Recycles TensorBuffer headers. Each thread keeps a short free list (no lock, no atomic);
// past kMaxLocal it moves half to a shared list under a mutex, and an empty thread list takes
// a batch from there -- so headers freed on pool workers flow back to the threads that make
// tensors. New headers come in slabs from the heap only while the number of live tensors grows
// past its previous peak; they are never returned.
class TensorBufferPool {
 public:
  static TensorBuffer* Get() {
    LocalList* local = Local();
    if (local != nullptr && local->head != nullptr) return local->Pop();
    return GetSlow(local);
  }
  static void Put(TensorBuffer* buffer) {
    LocalList* local = Local();
    if (local == nullptr) {  // this thread's list is gone (thread exit)
      Shared().PutChain(buffer, buffer, 1);
      return;
    }
    local->Push(buffer);
    if (local->count > kMaxLocal) local->SpillHalf();
  }

 private:
  static constexpr int kMaxLocal = 16;
  static constexpr int kBatch = 16;

  struct SharedList {
    absl::Mutex mu;
    TensorBuffer* head ABSL_GUARDED_BY(mu) = nullptr;
    int count ABSL_GUARDED_BY(mu) = 0;

    void PutChain(TensorBuffer* first, TensorBuffer* last, int n) {
      absl::MutexLock lock(&mu);
      last->next_free_ = head;
      head = first;
      count += n;
    }
    // Up to kBatch headers as a chain; null when empty.
    TensorBuffer* TakeBatch(int* n) {
      absl::MutexLock lock(&mu);
      TensorBuffer* first = head;
      TensorBuffer* last = nullptr;
      *n = 0;
      for (TensorBuffer* b = head; b != nullptr && *n < kBatch; b = b->next_free_) {
        last = b;
        ++*n;
      }
      if (last == nullptr) return nullptr;
      head = last->next_free_;
      last->next_free_ = nullptr;
      count -= *n;
      return first;
    }
  };
  // Never destroyed: buffers may be released during static destruction.
  static SharedList& Shared() {
    static SharedList* list = new SharedList;
    return *list;
  }

  struct LocalList {
    TensorBuffer* head = nullptr;
    int count = 0;
    TensorBuffer* Pop() {
      TensorBuffer* b = head;
      head = b->next_free_;
      --count;
      return b;
    }
    void Push(TensorBuffer* b) {
      b->next_free_ = head;
      head = b;
      ++count;
    }
    void SpillHalf() {
      const int n = count / 2;
      TensorBuffer* first = head;
      TensorBuffer* last = head;
      for (int i = 1; i < n; ++i) last = last->next_free_;
      head = last->next_free_;
      count -= n;
      Shared().PutChain(first, last, n);
    }
    ~LocalList() {
      if (head == nullptr) return;
      TensorBuffer* last = head;
      while (last->next_free_ != nullptr) last = last->next_free_;
      Shared().PutChain(head, last, count);
      head = nullptr;
      count = 0;
    }
  };
  // Null once this thread's list has been destroyed (a tensor released by a later
  // thread-exit destructor goes to the shared list).
  static LocalList* Local() {
    thread_local bool destroyed = false;
    thread_local struct Holder {
      LocalList list;
      bool* destroyed_flag;
      ~Holder() { *destroyed_flag = true; }
    } holder{LocalList{}, &destroyed};
    return destroyed ? nullptr : &holder.list;
  }

  static TensorBuffer* GetSlow(LocalList* local) {
    int n = 0;
    TensorBuffer* chain = Shared().TakeBatch(&n);
    if (chain == nullptr) {
      // A new slab, linked into a chain.
      TensorBuffer* slab = new TensorBuffer[kBatch];
      for (int i = 0; i + 1 < kBatch; ++i) slab[i].next_free_ = &slab[i + 1];
      chain = slab;
      n = kBatch;
    }
    TensorBuffer* first = chain;
    TensorBuffer* rest = first->next_free_;
    first->next_free_ = nullptr;
    if (local != nullptr) {
      for (TensorBuffer* b = rest; b != nullptr;) {
        TensorBuffer* next = b->next_free_;
        local->Push(b);
        b = next;
      }
    } else if (rest != nullptr) {
      TensorBuffer* last = rest;
      while (last->next_free_ != nullptr) last = last->next_free_;
      Shared().PutChain(rest, last, n - 1);
    }
    return first;
  }
};

TensorBuffer* TensorBuffer::New(Allocator* allocator, size_t bytes) {
  TensorBuffer* buffer = TensorBufferPool::Get();
  buffer->allocator_ = allocator;
  buffer->data_ = allocator->Allocate(bytes);
  buffer->bytes_ = bytes;
  buffer->num_strings_ = 0;
  buffer->next_free_ = nullptr;
  buffer->refs_.store(1, std::memory_order_relaxed);
  return buffer;
}

TensorBuffer* TensorBuffer::NewStrings(int64_t count) {
  // std::string objects only make sense in host memory, whatever device asked.
  TensorBuffer* buffer = New(CpuAllocator::Get(), static_cast<size_t>(count) * sizeof(std::string));
  if (buffer->data_ != nullptr) {
    std::string* s = static_cast<std::string*>(buffer->data_);
    for (int64_t i = 0; i < count; ++i) new (s + i) std::string();
    buffer->num_strings_ = count;
  }
  return buffer;
}

void TensorBuffer::Destroy() const {
  TensorBuffer* self = const_cast<TensorBuffer*>(this);
  if (num_strings_ > 0) {
    std::string* s = static_cast<std::string*>(data_);
    for (int64_t i = 0; i < num_strings_; ++i) s[i].~basic_string();
  }
  allocator_->Deallocate(data_, bytes_);
  self->data_ = nullptr;
  self->allocator_ = nullptr;
  TensorBufferPool::Put(self);
}

Tensor::Tensor(DataType dtype, TensorShape shape) : Tensor(CpuAllocator::Get(), dtype, std::move(shape)) {}

Tensor::Tensor(Allocator* allocator, DataType dtype, TensorShape shape)
    : dtype_(dtype), shape_(std::move(shape)) {
  if (ABSL_PREDICT_FALSE(dtype == DT_STRING)) {
    buffer_ = TensorBuffer::NewStrings(num_elements());
    return;
  }
  buffer_ = TensorBuffer::New(allocator, TotalBytes());
}

Tensor Tensor::Reshaped(TensorShape shape) const {
  if (shape.num_elements() != num_elements()) {
    fprintf(stderr, "Tensor::Reshaped: %s to %s\n", shape_.ToString().c_str(),
            shape.ToString().c_str());
    abort();
  }
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::DeepCopy() const {
  Tensor t(dtype_, shape_);
  if (dtype_ == DT_STRING) {
    if (raw_data() != nullptr && t.raw_data() != nullptr) {
      std::copy_n(data<std::string>(), num_elements(), t.data<std::string>());
    }
    return t;
  }
  if (TotalBytes() > 0) std::memcpy(t.raw_data(), raw_data(), TotalBytes());
  return t;
}

namespace {

// Copies `count` typed values into `out`, repeating the last to fill `n` elements.
template <typename Out, typename Repeated>
absl::Status FillFromRepeated(const Repeated& values, int64_t n, Out* out) {
  const int64_t count = values.size();
  if (count > n) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor proto holds ", count, " values, expected at most ", n));
  }
  if (count == 0) {
    for (int64_t i = 0; i < n; ++i) out[i] = Out();
    return absl::OkStatus();
  }
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<Out>(values.Get(i < count ? i : count - 1));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Tensor> Tensor::FromProto(const TensorProto& proto) {
  absl::StatusOr<TensorShape> shape = TensorShape::FromProto(proto.tensor_shape());
  if (!shape.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("tensor proto: ", shape.status().message()));
  }
  const DataType dtype = proto.dtype();
  if ((DataTypeSize(dtype) == 0 && dtype != DT_STRING) || dtype == DT_RESOURCE) {
    return absl::UnimplementedError(
        absl::StrCat("tensor proto has dtype ", DataTypeString(dtype), ", which Weir cannot hold yet"));
  }
  Tensor t(dtype, *shape);
  if (!t.buffer_->ok()) {
    return absl::ResourceExhaustedError(
        absl::StrCat("out of memory allocating ", t.TotalBytes(), " bytes for a constant"));
  }
  const int64_t n = t.num_elements();
  if (dtype == DT_STRING && !proto.tensor_content().empty()) {
    return absl::UnimplementedError(absl::StrCat(
        "tensor proto of dtype string and shape ", shape->ToString(),
        " stores its values in tensor_content, expected string_val"));
  }
  if (!proto.tensor_content().empty()) {
    if (proto.tensor_content().size() != t.TotalBytes()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tensor proto of dtype ", DataTypeString(dtype), " and shape ", shape->ToString(),
          " has ", proto.tensor_content().size(), " content bytes, expected ", t.TotalBytes()));
    }
    std::memcpy(t.raw_data(), proto.tensor_content().data(), t.TotalBytes());
    return t;
  }
  absl::Status s;
  switch (dtype) {
    case DT_FLOAT: s = FillFromRepeated(proto.float_val(), n, t.data<float>()); break;
    case DT_DOUBLE: s = FillFromRepeated(proto.double_val(), n, t.data<double>()); break;
    case DT_INT32: s = FillFromRepeated(proto.int_val(), n, t.data<int32_t>()); break;
    case DT_INT16: s = FillFromRepeated(proto.int_val(), n, t.data<int16_t>()); break;
    case DT_UINT16: s = FillFromRepeated(proto.int_val(), n, t.data<uint16_t>()); break;
    case DT_INT8: s = FillFromRepeated(proto.int_val(), n, t.data<int8_t>()); break;
    case DT_UINT8: s = FillFromRepeated(proto.int_val(), n, t.data<uint8_t>()); break;
    case DT_INT64: s = FillFromRepeated(proto.int64_val(), n, t.data<int64_t>()); break;
    case DT_BOOL: s = FillFromRepeated(proto.bool_val(), n, t.data<bool>()); break;
    case DT_UINT32: s = FillFromRepeated(proto.uint32_val(), n, t.data<uint32_t>()); break;
    case DT_UINT64: s = FillFromRepeated(proto.uint64_val(), n, t.data<uint64_t>()); break;
    case DT_HALF:
    case DT_BFLOAT16: s = FillFromRepeated(proto.half_val(), n, t.data<uint16_t>()); break;
    case DT_STRING: s = FillFromRepeated(proto.string_val(), n, t.data<std::string>()); break;
    default:
      return absl::UnimplementedError(absl::StrCat("tensor proto of dtype ",
                                                   DataTypeString(dtype), " is not supported"));
  }
  if (!s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("tensor proto of dtype ", DataTypeString(dtype),
                                                   " and shape ", shape->ToString(), ": ",
                                                   s.message()));
  }
  return t;
}

void Tensor::ToProto(TensorProto* proto) const {
  proto->Clear();
  proto->set_dtype(dtype_);
  shape_.ToProto(proto->mutable_tensor_shape());
  if (dtype_ == DT_STRING) {
    if (raw_data() == nullptr) return;
    for (const std::string& v : flat<std::string>()) proto->add_string_val(v);
    return;
  }
  if (TotalBytes() > 0) proto->set_tensor_content(raw_data(), TotalBytes());
}

namespace {

template <typename T>
std::string FormatValue(const T& v) {
  return absl::StrCat(v);
}
template <>
std::string FormatValue<bool>(const bool& v) {
  return v ? "true" : "false";
}
template <>
std::string FormatValue<float>(const float& v) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}
template <>
std::string FormatValue<double>(const double& v) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%.10g", v);
  return buf;
}
template <>
std::string FormatValue<std::string>(const std::string& v) {
  return absl::StrCat("\"", absl::CEscape(v), "\"");
}
template <>
std::string FormatValue<uint8_t>(const uint8_t& v) {
  return absl::StrCat(static_cast<int>(v));
}
template <>
std::string FormatValue<int8_t>(const int8_t& v) {
  return absl::StrCat(static_cast<int>(v));
}

// Nested brackets by dimension, stopping after `max_elements` values with "...".
template <typename T>
void AppendNested(const T* data, const TensorShape& shape, int dim, int64_t offset,
                  int64_t stride_base, int max_elements, int* printed, std::string* out) {
  if (shape.rank() == 0) {
    out->append(FormatValue(data[0]));
    return;
  }
  int64_t stride = 1;
  for (int d = dim + 1; d < shape.rank(); ++d) stride *= shape.dim(d);
  out->append("[");
  for (int64_t i = 0; i < shape.dim(dim); ++i) {
    if (*printed >= max_elements) {
      out->append("...");
      break;
    }
    if (i > 0) out->append(", ");
    if (dim == shape.rank() - 1) {
      out->append(FormatValue(data[offset + i]));
      ++*printed;
    } else {
      AppendNested(data, shape, dim + 1, offset + i * stride, stride_base, max_elements, printed,
                   out);
    }
  }
  out->append("]");
}

template <typename T>
std::string Values(const Tensor& t, int max_elements) {
  std::string out;
  int printed = 0;
  AppendNested(t.data<T>(), t.shape(), 0, 0, 1, max_elements, &printed, &out);
  return out;
}

}  // namespace

std::string Tensor::ValuesString(int max_elements) const {
  if (!IsInitialized()) return "<uninitialized>";
  switch (dtype_) {
    case DT_FLOAT: return Values<float>(*this, max_elements);
    case DT_DOUBLE: return Values<double>(*this, max_elements);
    case DT_INT32: return Values<int32_t>(*this, max_elements);
    case DT_INT64: return Values<int64_t>(*this, max_elements);
    case DT_INT16: return Values<int16_t>(*this, max_elements);
    case DT_INT8: return Values<int8_t>(*this, max_elements);
    case DT_UINT8: return Values<uint8_t>(*this, max_elements);
    case DT_UINT16: return Values<uint16_t>(*this, max_elements);
    case DT_BOOL: return Values<bool>(*this, max_elements);
    case DT_STRING: return Values<std::string>(*this, max_elements);
    default: return absl::StrCat("<", TotalBytes(), " bytes>");
  }
}

std::string Tensor::DebugString(int max_elements) const {
  return absl::StrCat(DataTypeString(dtype_), " ", shape_.ToString(), " ",
                      ValuesString(max_elements));
}

}  // namespace weir
