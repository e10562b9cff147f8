// shape.h - Tensor shapes: PartialShape (unknown dims and rank, for graphs) and TensorShape
// (fully known, for run-time tensors).
#ifndef WEIR_GRAPH_SHAPE_H_
#define WEIR_GRAPH_SHAPE_H_

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "proto/tensor_shape.pb.h"

namespace weir {

// A read-only view of a TensorShape's dimensions (valid while the shape lives). Converts to
// std::vector<int64_t> for callers that keep or edit a copy.
class DimsView : public absl::Span<const int64_t> {
 public:
  using absl::Span<const int64_t>::Span;
  DimsView(absl::Span<const int64_t> span) : absl::Span<const int64_t>(span) {}  // NOLINT
  operator std::vector<int64_t>() const { return std::vector<int64_t>(begin(), end()); }  // NOLINT
};

// A fully defined shape. Dimensions are non-negative.
//
// Up to kInlineRank dimensions live inside the object, so making, copying and destroying the
// shapes of ordinary tensors never touches the heap (a steady-state Run allocates nothing, and
// every allocate_output takes a shape); higher ranks spill to a heap array.
class TensorShape {
 public:
  static constexpr int kInlineRank = 6;

  TensorShape() : rank_(0) {}  // a scalar
  TensorShape(std::initializer_list<int64_t> dims) { Init(dims.begin(), dims.size()); }
  explicit TensorShape(const std::vector<int64_t>& dims) { Init(dims.data(), dims.size()); }
  explicit TensorShape(absl::Span<const int64_t> dims) { Init(dims.data(), dims.size()); }
  TensorShape(const TensorShape& other) { CopyFrom(other); }
  TensorShape(TensorShape&& other) noexcept : rank_(other.rank_) {
    if (other.is_inline()) {
      CopyInline(other);
    } else {
      heap_ = other.heap_;
      other.rank_ = 0;
    }
  }
  TensorShape& operator=(const TensorShape& other) {
    if (this != &other) {
      Free();
      CopyFrom(other);
    }
    return *this;
  }
  TensorShape& operator=(TensorShape&& other) noexcept {
    if (this != &other) {
      Free();
      rank_ = other.rank_;
      if (other.is_inline()) {
        CopyInline(other);
      } else {
        heap_ = other.heap_;
        other.rank_ = 0;
      }
    }
    return *this;
  }
  ~TensorShape() { Free(); }

  int rank() const { return rank_; }
  int64_t dim(int i) const { return data()[i]; }
  DimsView dims() const { return DimsView(data(), static_cast<size_t>(rank_)); }
  int64_t num_elements() const {
    int64_t n = 1;
    for (int i = 0; i < rank_; ++i) n *= data()[i];
    return n;
  }

  void AddDim(int64_t size);
  void set_dim(int i, int64_t size) { mutable_data()[i] = size; }

  // "[2,3]"; a scalar is "[]".
  std::string ToString() const;
  void ToProto(TensorShapeProto* proto) const;
  // Fails when the proto has unknown rank, unknown or negative dimensions.
  static absl::StatusOr<TensorShape> FromProto(const TensorShapeProto& proto);

  bool operator==(const TensorShape& other) const {
    if (rank_ != other.rank_) return false;
    const int64_t* a = data();
    const int64_t* b = other.data();
    for (int i = 0; i < rank_; ++i) {
      if (a[i] != b[i]) return false;
    }
    return true;
  }
  bool operator!=(const TensorShape& other) const { return !(*this == other); }

 private:
  bool is_inline() const { return rank_ <= kInlineRank; }
  const int64_t* data() const { return is_inline() ? inline_ : heap_; }
  int64_t* mutable_data() { return is_inline() ? inline_ : heap_; }
  void Init(const int64_t* dims, size_t rank) {
    rank_ = static_cast<int>(rank);
    if (!is_inline()) heap_ = new int64_t[rank];
    std::copy(dims, dims + rank, mutable_data());
  }
  void CopyFrom(const TensorShape& other) {
    if (other.is_inline()) {
      rank_ = other.rank_;
      CopyInline(other);
    } else {
      Init(other.heap_, other.rank_);
    }
  }
  // The whole inline array, a fixed-size copy the compiler turns into a few moves (cheaper
  // than a memmove call for one or two dims; the unused tail is copied too).
  void CopyInline(const TensorShape& other) { std::memcpy(inline_, other.inline_, sizeof(inline_)); }
  void Free() {
    if (!is_inline()) delete[] heap_;
    rank_ = 0;
  }

  int rank_;
  union {
    int64_t inline_[kInlineRank];
    int64_t* heap_;  // rank_ > kInlineRank
  };
};

// A shape known in part: the rank may be unknown, and any dimension may be unknown (-1).
class PartialShape {
 public:
  static constexpr int64_t kUnknownDim = -1;

  PartialShape() : known_rank_(false) {}  // unknown rank
  PartialShape(std::initializer_list<int64_t> dims) : known_rank_(true), dims_(dims) {}
  explicit PartialShape(std::vector<int64_t> dims) : known_rank_(true), dims_(std::move(dims)) {}
  PartialShape(const TensorShape& shape)  // NOLINT
      : known_rank_(true), dims_(shape.dims().begin(), shape.dims().end()) {}

  static PartialShape Unknown() { return PartialShape(); }
  static PartialShape Scalar() { return PartialShape(std::vector<int64_t>{}); }
  static PartialShape UnknownOfRank(int rank) {
    return PartialShape(std::vector<int64_t>(rank, kUnknownDim));
  }

  bool known_rank() const { return known_rank_; }
  // -1 when the rank is unknown.
  int rank() const { return known_rank_ ? static_cast<int>(dims_.size()) : -1; }
  int64_t dim(int i) const { return dims_[i]; }
  const std::vector<int64_t>& dims() const { return dims_; }
  bool IsFullyDefined() const;
  // -1 unless fully defined.
  int64_t num_elements() const;

  // True when some tensor could have both shapes.
  bool IsCompatibleWith(const PartialShape& other) const;
  // True when a tensor of this concrete shape fits this partial shape.
  bool IsCompatibleWith(const TensorShape& shape) const;
  // The most specific shape compatible with both; fails when they are incompatible.
  absl::StatusOr<PartialShape> Merge(const PartialShape& other) const;
  absl::StatusOr<TensorShape> AsTensorShape() const;

  // "[?,784]"; unknown rank is "<unknown>".
  std::string ToString() const;
  void ToProto(TensorShapeProto* proto) const;
  static PartialShape FromProto(const TensorShapeProto& proto);

  bool operator==(const PartialShape& other) const {
    return known_rank_ == other.known_rank_ && dims_ == other.dims_;
  }
  bool operator!=(const PartialShape& other) const { return !(*this == other); }

 private:
  bool known_rank_;
  std::vector<int64_t> dims_;
};

// NumPy/TensorFlow broadcasting of two shapes; fails naming both shapes when incompatible.
absl::StatusOr<PartialShape> BroadcastShapes(const PartialShape& a, const PartialShape& b);
absl::StatusOr<TensorShape> BroadcastShapes(const TensorShape& a, const TensorShape& b);

}  // namespace weir

#endif  // WEIR_GRAPH_SHAPE_H_
