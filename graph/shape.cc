// shape.cc - Tensor shapes and broadcasting.
#include "graph/shape.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace weir {

void TensorShape::AddDim(int64_t size) {
  if (rank_ < kInlineRank) {
    inline_[rank_++] = size;
    return;
  }
  // Spill to (or regrow) the heap array.
  int64_t* dims = new int64_t[rank_ + 1];
  std::copy(data(), data() + rank_, dims);
  dims[rank_] = size;
  if (!is_inline()) delete[] heap_;
  heap_ = dims;
  ++rank_;
}

std::string TensorShape::ToString() const {
  return absl::StrCat("[", absl::StrJoin(dims(), ","), "]");
}

void TensorShape::ToProto(TensorShapeProto* proto) const {
  proto->Clear();
  for (int64_t d : dims()) proto->add_dim()->set_size(d);
}

absl::StatusOr<TensorShape> TensorShape::FromProto(const TensorShapeProto& proto) {
  if (proto.unknown_rank()) {
    return absl::InvalidArgumentError("expected a fully defined shape, found unknown rank");
  }
  TensorShape shape;
  int64_t num_elements = 1;
  for (const auto& dim : proto.dim()) {
    if (dim.size() < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "expected a fully defined shape, found ", PartialShape::FromProto(proto).ToString()));
    }
    // A corrupt or hostile proto must not yield a shape whose element count wraps around
    // (TensorFlow rejects these as "too large" too).
    if (dim.size() > 0 && num_elements > std::numeric_limits<int64_t>::max() / dim.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "shape ", PartialShape::FromProto(proto).ToString(),
          " has too many elements (more than 2^63 - 1)"));
    }
    num_elements *= dim.size();
    shape.AddDim(dim.size());
  }
  return shape;
}

bool PartialShape::IsFullyDefined() const {
  if (!known_rank_) return false;
  return std::all_of(dims_.begin(), dims_.end(), [](int64_t d) { return d >= 0; });
}

int64_t PartialShape::num_elements() const {
  if (!IsFullyDefined()) return -1;
  int64_t n = 1;
  for (int64_t d : dims_) n *= d;
  return n;
}

bool PartialShape::IsCompatibleWith(const PartialShape& other) const {
  if (!known_rank_ || !other.known_rank_) return true;
  if (dims_.size() != other.dims_.size()) return false;
  for (size_t i = 0; i < dims_.size(); ++i) {
    if (dims_[i] >= 0 && other.dims_[i] >= 0 && dims_[i] != other.dims_[i]) return false;
  }
  return true;
}

bool PartialShape::IsCompatibleWith(const TensorShape& shape) const {
  // Directly, without a PartialShape copy: Session::Run checks every feed with this.
  if (!known_rank_) return true;
  if (static_cast<int>(dims_.size()) != shape.rank()) return false;
  for (size_t i = 0; i < dims_.size(); ++i) {
    if (dims_[i] >= 0 && dims_[i] != shape.dim(static_cast<int>(i))) return false;
  }
  return true;
}

absl::StatusOr<PartialShape> PartialShape::Merge(const PartialShape& other) const {
  if (!IsCompatibleWith(other)) {
    return absl::InvalidArgumentError(
        absl::StrCat("shapes ", ToString(), " and ", other.ToString(), " are incompatible"));
  }
  if (!known_rank_) return other;
  if (!other.known_rank_) return *this;
  std::vector<int64_t> dims = dims_;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] < 0) dims[i] = other.dims_[i];
  }
  return PartialShape(std::move(dims));
}

absl::StatusOr<TensorShape> PartialShape::AsTensorShape() const {
  if (!IsFullyDefined()) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a fully defined shape, found ", ToString()));
  }
  return TensorShape(dims_);
}

std::string PartialShape::ToString() const {
  if (!known_rank_) return "<unknown>";
  return absl::StrCat("[",
                      absl::StrJoin(dims_, ",",
                                    [](std::string* out, int64_t d) {
                                      if (d < 0) {
                                        out->append("?");
                                      } else {
                                        absl::StrAppend(out, d);
                                      }
                                    }),
                      "]");
}

void PartialShape::ToProto(TensorShapeProto* proto) const {
  proto->Clear();
  if (!known_rank_) {
    proto->set_unknown_rank(true);
    return;
  }
  for (int64_t d : dims_) proto->add_dim()->set_size(d < 0 ? -1 : d);
}

PartialShape PartialShape::FromProto(const TensorShapeProto& proto) {
  if (proto.unknown_rank()) return PartialShape();
  std::vector<int64_t> dims;
  for (const auto& dim : proto.dim()) dims.push_back(dim.size() < 0 ? kUnknownDim : dim.size());
  return PartialShape(std::move(dims));
}

absl::StatusOr<PartialShape> BroadcastShapes(const PartialShape& a, const PartialShape& b) {
  if (!a.known_rank() || !b.known_rank()) return PartialShape::Unknown();
  const int rank = std::max(a.rank(), b.rank());
  std::vector<int64_t> dims(rank);
  for (int i = 0; i < rank; ++i) {
    const int ia = a.rank() - rank + i;
    const int ib = b.rank() - rank + i;
    const int64_t da = ia >= 0 ? a.dim(ia) : 1;
    const int64_t db = ib >= 0 ? b.dim(ib) : 1;
    if (da == 1) {
      dims[i] = db;
    } else if (db == 1) {
      dims[i] = da;
    } else if (da < 0) {
      dims[i] = db;  // unknown broadcast against a known size > 1 must be that size or 1
    } else if (db < 0) {
      dims[i] = da;
    } else if (da == db) {
      dims[i] = da;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("shapes ", a.ToString(), " and ",
                                                     b.ToString(), " cannot be broadcast (dimension ",
                                                     i, ": ", da, " vs ", db, ")"));
    }
  }
  return PartialShape(std::move(dims));
}

absl::StatusOr<TensorShape> BroadcastShapes(const TensorShape& a, const TensorShape& b) {
  // Kernels call this per step: build the (inline) result directly, no heap on success.
  const int rank = std::max(a.rank(), b.rank());
  TensorShape out;
  for (int i = 0; i < rank; ++i) {
    const int ia = a.rank() - rank + i;
    const int ib = b.rank() - rank + i;
    const int64_t da = ia >= 0 ? a.dim(ia) : 1;
    const int64_t db = ib >= 0 ? b.dim(ib) : 1;
    if (da != db && da != 1 && db != 1) {
      return absl::InvalidArgumentError(absl::StrCat("shapes ", a.ToString(), " and ",
                                                     b.ToString(), " cannot be broadcast (dimension ",
                                                     i, ": ", da, " vs ", db, ")"));
    }
    out.AddDim(da == 1 ? db : da);
  }
  return out;
}

}  // namespace weir
