// array_ops.cc - Data movement and filling on the GPU: Transpose, ConcatV2, Slice,
// StridedSlice, GatherV2, Tile, Fill, ZerosLike, OnesLike, Split, SplitV, Unpack, Pack, Pad and
// PadV2, as
// OpKernels over the launchers of kernels/gpu/ (transpose.h, concat_slice.h, gather.h, tile.h,
// cast_fill.h), for float, int32, int64 and bool.
//
// Their index arguments (perm, axis, begin/size, begin/end/strides, Tile's multiples, Fill's
// dims and value) are
// host-memory inputs in TensorFlow; here they are read once, at construction, from their Const
// nodes (gpu_op_util.h) and checked against each step's input shapes, which may change between
// steps. Validation and messages follow the CPU kernels (kernels/cpu/array_kernels.cc,
// array_extra_kernels.cc, fill_pad_kernels.cc), except where a GPU kernel cannot report an
// error: GatherV2 gives zeros for out-of-range indices, as TensorFlow's GPU kernel does.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "graph/ops/strided_slice_spec.h"
#include "kernels/gpu/cast_fill.h"
#include "kernels/gpu/concat_slice.h"
#include "kernels/gpu/gather.h"
#include "kernels/gpu/ops/gpu_op_util.h"
#include "kernels/gpu/tile.h"
#include "kernels/gpu/transpose.h"

namespace weir {
namespace gpu {
namespace {

// The element types every data-movement launcher here is instantiated for.
const std::vector<DataType>& ArrayTypes() {
  static const std::vector<DataType> types = {DT_FLOAT, DT_INT32, DT_INT64, DT_BOOL};
  return types;
}

// Calls fn(T{}) for the data-movement launchers' types (float, int32, int64, bool).
template <typename Fn>
absl::Status ForArrayType(DataType dtype, Fn&& fn) {
  return ForLauncherType</*kWithBool=*/true>(dtype, std::forward<Fn>(fn));
}

std::string IntsToString(const std::vector<int64_t>& values) {
  return absl::StrCat("[", absl::StrJoin(values, ","), "]");
}

int64_t Product(DimsView dims, int from, int to) {
  int64_t p = 1;
  for (int k = from; k < to; ++k) p *= dims[k];
  return p;
}

// The values of constant input `i`, which must be a vector (begin, size, perm, dims).
absl::StatusOr<std::vector<int64_t>> ConstVector(const KernelConstruction& c, int i,
                                                 absl::string_view what) {
  absl::StatusOr<Tensor> value = ConstInputValue(c.node(), i);
  if (!value.ok()) return value.status();
  if (value->rank() != 1) {
    return absl::InvalidArgumentError(absl::StrCat("input ", i, " (", what, ") has shape ",
                                                   value->shape().ToString(), ", expected rank 1"));
  }
  return ConstInputInts(c.node(), i);
}

// The value of constant input `i`, which must hold one value (an axis): a scalar, or a
// one-element vector as the CPU kernels accept.
absl::StatusOr<int64_t> ConstScalar(const KernelConstruction& c, int i, absl::string_view what) {
  absl::StatusOr<Tensor> value = ConstInputValue(c.node(), i);
  if (!value.ok()) return value.status();
  if (value->rank() > 1 || value->num_elements() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input ", i, " (", what, ") has shape ", value->shape().ToString(), ", expected a scalar"));
  }
  absl::StatusOr<std::vector<int64_t>> ints = ConstInputInts(c.node(), i);
  if (!ints.ok()) return ints.status();
  return (*ints)[0];
}

// Checks `axis` against [-rank, rank) and returns it counted from the front.
absl::Status CanonicalAxis(int64_t axis, int rank, absl::string_view what, int* out) {
  if (axis < -rank || axis >= rank) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is ", axis, ", expected a value in [",
                                                   -rank, ", ", rank, ") for rank ", rank));
  }
  *out = static_cast<int>(axis < 0 ? axis + rank : axis);
  return absl::OkStatus();
}

// Whether input `i` of `node` has an index dtype ConstInputInts reads (int32 or int64); ops
// that also allow int16 there (StridedSlice's Index) then stay on the CPU.
absl::Status Int32OrInt64Input(const Node& node, int i, absl::string_view what) {
  const DataType t = node.input_type(i);
  if (t == DT_INT32 || t == DT_INT64) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("input ", i, " (", what, ") has dtype ",
                                                 DataTypeString(t),
                                                 ", and the GPU kernel takes int32 or int64"));
}

// Transpose with a constant perm.
class TransposeKernel : public OpKernel {
 public:
  static absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelConstruction& c) {
    absl::StatusOr<std::vector<int64_t>> perm = ConstVector(c, 1, "perm");
    if (!perm.ok()) return perm.status();
    // Whether perm is a permutation does not depend on the input: checked once here.
    const int n = static_cast<int>(perm->size());
    std::vector<bool> seen(n, false);
    for (int k = 0; k < n; ++k) {
      const int64_t d = (*perm)[k];
      if (d < 0 || d >= n) {
        return absl::InvalidArgumentError(absl::StrCat("input 1 (perm) is ", IntsToString(*perm),
                                                       ": entry ", k, " is ", d,
                                                       ", expected a value in [0, ", n, ")"));
      }
      if (seen[d]) {
        return absl::InvalidArgumentError(absl::StrCat("input 1 (perm) is ", IntsToString(*perm),
                                                       ": ", d,
                                                       " appears twice, expected a permutation"));
      }
      seen[d] = true;
    }
    return std::unique_ptr<OpKernel>(new TransposeKernel(c, *std::move(perm)));
  }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& in = ctx->input(0);
    const int rank = in.rank();
    if (static_cast<int>(perm_.size()) != rank) {
      return absl::InvalidArgumentError(absl::StrCat("perm ", IntsToString(perm_), " has ",
                                                     perm_.size(), " entries, expected ", rank,
                                                     " (the rank of input 0)"));
    }
    if (identity_) {
      ctx->set_output(0, in);
      return absl::OkStatus();
    }
    absl::StatusOr<GpuDims> dims = ToGpuDims(in.shape(), "input 0");
    if (!dims.ok()) return dims.status();
    int perm[kMaxGpuRank];
    TensorShape out_shape;
    for (int k = 0; k < rank; ++k) {
      perm[k] = static_cast<int>(perm_[k]);
      out_shape.AddDim(in.dim(perm[k]));
    }
    absl::StatusOr<Tensor*> out = ctx->allocate_output(0, in.dtype(), out_shape);
    if (!out.ok()) return out.status();
    if ((*out)->num_elements() == 0) return absl::OkStatus();
    LaunchScope scope(ctx);
    if (auto s = scope.Activate(); !s.ok()) return s;
    return ForArrayType(in.dtype(), [&](auto tag) {
      using T = decltype(tag);
      return ToStatus(
          LaunchTranspose<T>(in.data<T>(), *dims, perm, (*out)->data<T>(), scope.stream()));
    });
  }
  bool IsExpensive() const override { return false; }

 private:
  TransposeKernel(const KernelConstruction& c, std::vector<int64_t> perm)
      : OpKernel(c), perm_(std::move(perm)) {
    for (size_t k = 0; k < perm_.size(); ++k) identity_ &= perm_[k] == static_cast<int64_t>(k);
  }

  std::vector<int64_t> perm_;  // a permutation of [0, perm_.size())
  bool identity_ = true;       // then the output is the input
};

// Joins the kernel's first n inputs into `out` along an axis, viewed as LaunchConcat's 2-D
// [outer, axis_sizes[i] * inner] blocks (ConcatV2, and Pack with sizes of one).
absl::Status EnqueueConcat(KernelContext* ctx, int n, const int64_t* axis_sizes, int64_t outer,
                           int64_t inner, Tensor* out) {
  LaunchScope scope(ctx);
  if (auto s = scope.Activate(); !s.ok()) return s;
  return ForArrayType(out->dtype(), [&](auto tag) {
    using T = decltype(tag);
    // Host array of device pointers: the launcher reads it while enqueueing, one copy per
    // input.
    absl::InlinedVector<const T*, 16> inputs(n);
    for (int i = 0; i < n; ++i) inputs[i] = ctx->input(i).data<T>();
    return ToStatus(LaunchConcat<T>(inputs.data(), axis_sizes, n, outer, inner, out->data<T>(),
                                    scope.stream()));
  });
}

// ConcatV2 of N inputs along a constant axis (the last input).
class ConcatV2Kernel : public OpKernel {
 public:
  static absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelConstruction& c) {
    const int n = c.num_inputs() - 1;
    absl::StatusOr<int64_t> axis = ConstScalar(c, n, "axis");
    if (!axis.ok()) return axis.status();
    return std::unique_ptr<OpKernel>(new ConcatV2Kernel(c, *axis));
  }

  absl::Status Compute(KernelContext* ctx) override {
    const int n = ctx->num_inputs() - 1;
    const Tensor& first = ctx->input(0);
    const int rank = first.rank();
    if (rank == 0) {
      return absl::InvalidArgumentError(
          "input 0 is a scalar, expected rank >= 1 (use Pack to join scalars)");
    }
    int axis;
    if (auto s = CanonicalAxis(axis_, rank, absl::StrCat("input ", n, " (axis)"), &axis); !s.ok()) {
      return s;
    }
    // Each input is [outer, its size along axis * inner]: the launcher's 2-D view.
    absl::InlinedVector<int64_t, 16> axis_sizes(n);
    int64_t axis_sum = 0;
    for (int i = 0; i < n; ++i) {
      const Tensor& t = ctx->input(i);
      bool match = t.rank() == rank;
      for (int k = 0; match && k < rank; ++k) match = k == axis || t.dim(k) == first.dim(k);
      if (!match) {
        std::vector<int64_t> expected = first.shape().dims();
        expected[axis] = PartialShape::kUnknownDim;
        return absl::InvalidArgumentError(
            absl::StrCat("input ", i, " has shape ", t.shape().ToString(), ", expected ",
                         PartialShape(expected).ToString(), " (dimensions other than axis ", axis,
                         " must match input 0's ", first.shape().ToString(), ")"));
      }
      axis_sizes[i] = t.dim(axis);
      axis_sum += t.dim(axis);
    }
    TensorShape out_shape = first.shape();
    out_shape.set_dim(axis, axis_sum);
    absl::StatusOr<Tensor*> out = ctx->allocate_output(0, first.dtype(), out_shape);
    if (!out.ok()) return out.status();
    if ((*out)->num_elements() == 0) return absl::OkStatus();
    const int64_t outer = Product(first.shape().dims(), 0, axis);
    const int64_t inner = Product(first.shape().dims(), axis + 1, rank);
    return EnqueueConcat(ctx, n, axis_sizes.data(), outer, inner, *out);
  }
  bool IsExpensive() const override { return false; }

 private:
  ConcatV2Kernel(const KernelConstruction& c, int64_t axis) : OpKernel(c), axis_(axis) {}
  int64_t axis_;  // as given: may be negative, checked per step
};

// Slice with constant begin and size (a size of -1 takes the rest of the dimension).
class SliceKernel : public OpKernel {
 public:
  static absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelConstruction& c) {
    absl::StatusOr<std::vector<int64_t>> begin = ConstVector(c, 1, "begin");
    if (!begin.ok()) return begin.status();
    absl::StatusOr<std::vector<int64_t>> size = ConstVector(c, 2, "size");
    if (!size.ok()) return size.status();
    return std::unique_ptr<OpKernel>(new SliceKernel(c, *std::move(begin), *std::move(size)));
  }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& in = ctx->input(0);
    const int rank = in.rank();
    if (static_cast<int>(begin_.size()) != rank || static_cast<int>(size_.size()) != rank) {
      return absl::InvalidArgumentError(absl::StrCat("begin ", IntsToString(begin_), " and size ",
                                                     IntsToString(size_), " have ", begin_.size(),
                                                     " and ", size_.size(), " entries, expected ",
                                                     rank, " (the rank of input 0)"));
    }
    TensorShape out_shape;
    bool identity = true;
    for (int k = 0; k < rank; ++k) {
      const int64_t dim = in.dim(k);
      const int64_t sz = size_[k] == -1 ? dim - begin_[k] : size_[k];
      if (begin_[k] < 0 || begin_[k] > dim || sz < 0 || begin_[k] + sz > dim) {
        return absl::InvalidArgumentError(absl::StrCat(
            "slice of dimension ", k, " with begin ", begin_[k], " and size ", size_[k],
            " is out of bounds, expected 0 <= begin <= begin + size <= ", dim));
      }
      identity &= sz == dim;
      out_shape.AddDim(sz);
    }
    // The whole input: share its buffer, as TensorFlow does.
    if (identity) {
      ctx->set_output(0, in);
      return absl::OkStatus();
    }
    absl::StatusOr<Tensor*> out = ctx->allocate_output(0, in.dtype(), out_shape);
    if (!out.ok()) return out.status();
    if ((*out)->num_elements() == 0) return absl::OkStatus();
    absl::StatusOr<GpuDims> in_dims = ToGpuDims(in.shape(), "input 0");
    if (!in_dims.ok()) return in_dims.status();
    const GpuDims out_dims(out_shape.dims().data(), rank);
    LaunchScope scope(ctx);
    if (auto s = scope.Activate(); !s.ok()) return s;
    return ForArrayType(in.dtype(), [&](auto tag) {
      using T = decltype(tag);
      return ToStatus(LaunchSlice<T>(in.data<T>(), *in_dims, begin_.data(), out_dims,
                                     (*out)->data<T>(), scope.stream()));
    });
  }
  bool IsExpensive() const override { return false; }

 private:
  SliceKernel(const KernelConstruction& c, std::vector<int64_t> begin, std::vector<int64_t> size)
      : OpKernel(c), begin_(std::move(begin)), size_(std::move(size)) {}

  std::vector<int64_t> begin_;
  std::vector<int64_t> size_;
};

// StridedSlice with constant begin, end and strides. ComputeStridedSlice (shared with the
// shape function and the CPU kernel) turns the sparse spec into a dense begin and stride per
// input dimension and the number of elements taken along each (the processing shape, of the
// input's rank); the output holds those elements in the same order, only its shape differs
// (new axes added, shrunk axes dropped), so the launch uses the processing shape.
class StridedSliceKernel : public OpKernel {
 public:
  static absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelConstruction& c) {
    // A mask left out of the NodeDef is 0, its default (as the CPU kernel reads them).
    StridedSliceMasks masks;
    c.GetAttr("begin_mask", &masks.begin_mask).IgnoreError();
    c.GetAttr("end_mask", &masks.end_mask).IgnoreError();
    c.GetAttr("ellipsis_mask", &masks.ellipsis_mask).IgnoreError();
    c.GetAttr("new_axis_mask", &masks.new_axis_mask).IgnoreError();
    c.GetAttr("shrink_axis_mask", &masks.shrink_axis_mask).IgnoreError();
    absl::StatusOr<std::vector<int64_t>> begin = ConstVector(c, 1, "begin");
    if (!begin.ok()) return begin.status();
    absl::StatusOr<std::vector<int64_t>> end = ConstVector(c, 2, "end");
    if (!end.ok()) return end.status();
    absl::StatusOr<std::vector<int64_t>> strides = ConstVector(c, 3, "strides");
    if (!strides.ok()) return strides.status();
    return std::unique_ptr<OpKernel>(
        new StridedSliceKernel(c, masks, *std::move(begin), *std::move(end), *std::move(strides)));
  }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& in = ctx->input(0);
    const int rank = in.rank();
    StridedSliceDense dense;
    if (auto s = ComputeStridedSlice(in.shape().dims(), begin_, end_, strides_, masks_, &dense);
        !s.ok()) {
      return s;
    }
    const TensorShape out_shape(dense.final_dims);
    // Every element in order: the output is the input relabeled, as in TensorFlow.
    bool identity = true;
    for (int k = 0; k < rank; ++k) {
      identity &=
          dense.stride[k] == 1 && dense.begin[k] == 0 && dense.processing_dims[k] == in.dim(k);
    }
    if (identity) {
      ctx->set_output(0, in.Reshaped(out_shape));
      return absl::OkStatus();
    }
    absl::StatusOr<Tensor*> out = ctx->allocate_output(0, in.dtype(), out_shape);
    if (!out.ok()) return out.status();
    if ((*out)->num_elements() == 0) return absl::OkStatus();
    absl::StatusOr<GpuDims> in_dims = ToGpuDims(in.shape(), "input 0");
    if (!in_dims.ok()) return in_dims.status();
    const GpuDims processing(dense.processing_dims.data(), rank);
    LaunchScope scope(ctx);
    if (auto s = scope.Activate(); !s.ok()) return s;
    return ForArrayType(in.dtype(), [&](auto tag) {
      using T = decltype(tag);
      return ToStatus(LaunchStridedSlice<T>(in.data<T>(), *in_dims, dense.begin.data(),
                                            dense.stride.data(), processing, (*out)->data<T>(),
                                            scope.stream()));
    });
  }
  bool IsExpensive() const override { return false; }

 private:
  StridedSliceKernel(const KernelConstruction& c, const StridedSliceMasks& masks,
                     std::vector<int64_t> begin, std::vector<int64_t> end,
                     std::vector<int64_t> strides)
      : OpKernel(c),
        masks_(masks),
        begin_(std::move(begin)),
        end_(std::move(end)),
        strides_(std::move(strides)) {}

  StridedSliceMasks masks_;
  // Optionals because ComputeStridedSlice takes them so (always known here): held that way,
  // a step passes them without copying.
  std::optional<std::vector<int64_t>> begin_;
  std::optional<std::vector<int64_t>> end_;
  std::vector<int64_t> strides_;
};

// GatherV2 with batch_dims 0 along a constant axis. Indices are not checked on the host (that
// would need a wait for the GPU): an out-of-range index gives zeros, as in TensorFlow's GPU
// kernel, where the CPU kernel fails.
class GatherV2Kernel : public OpKernel {
 public:
  static absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelConstruction& c) {
    if (auto s = Accepts(c.node()); !s.ok()) return s;
    absl::StatusOr<int64_t> axis = ConstScalar(c, 2, "axis");
    if (!axis.ok()) return axis.status();
    return std::unique_ptr<OpKernel>(new GatherV2Kernel(c, *axis));
  }

  // The registry row's constraint: batch_dims 0, int32 or int64 indices, a constant axis.
  static absl::Status Accepts(const Node& node) {
    int64_t batch_dims = 0;
    if (auto s = node.GetAttr("batch_dims", &batch_dims); !s.ok()) return s;
    if (batch_dims != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("batch_dims is ", batch_dims, ", and the GPU kernel takes only 0"));
    }
    if (auto s = Int32OrInt64Input(node, 1, "indices"); !s.ok()) return s;
    return ConstInputs({2})(node);
  }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& params = ctx->input(0);
    const Tensor& indices = ctx->input(1);
    if (params.rank() < 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input 0 (params) has shape ", params.shape().ToString(), ", expected rank >= 1"));
    }
    int axis;
    if (auto s = CanonicalAxis(axis_, params.rank(), "axis", &axis); !s.ok()) return s;
    // output = params[:axis] + indices + params[axis + 1:]; the launcher's view is
    // params [outer, axis_size, inner] -> output [outer, num_indices, inner].
    const DimsView pd = params.shape().dims();
    const DimsView id = indices.shape().dims();
    TensorShape out_shape;
    for (int k = 0; k < axis; ++k) out_shape.AddDim(pd[k]);
    for (int64_t d : id) out_shape.AddDim(d);
    for (int k = axis + 1; k < params.rank(); ++k) out_shape.AddDim(pd[k]);
    absl::StatusOr<Tensor*> out = ctx->allocate_output(0, params.dtype(), out_shape);
    if (!out.ok()) return out.status();
    if ((*out)->num_elements() == 0) return absl::OkStatus();
    const int64_t outer = Product(pd, 0, axis);
    const int64_t axis_size = pd[axis];
    const int64_t inner = Product(pd, axis + 1, params.rank());
    const int64_t num_indices = indices.num_elements();
    LaunchScope scope(ctx);
    if (auto s = scope.Activate(); !s.ok()) return s;
    return ForArrayType(params.dtype(), [&](auto tag) -> absl::Status {
      using T = decltype(tag);
      // No error slot: reading it back would wait for the stream (see gather.h).
      if (indices.dtype() == DT_INT32) {
        return ToStatus(LaunchGatherV2<T, int32_t>(params.data<T>(), outer, axis_size, inner,
                                                   indices.data<int32_t>(), num_indices,
                                                   (*out)->data<T>(), nullptr, scope.stream()));
      }
      if (indices.dtype() == DT_INT64) {
        return ToStatus(LaunchGatherV2<T, int64_t>(params.data<T>(), outer, axis_size, inner,
                                                   indices.data<int64_t>(), num_indices,
                                                   (*out)->data<T>(), nullptr, scope.stream()));
      }
      return absl::InvalidArgumentError(absl::StrCat("input 1 (indices) has dtype ",
                                                     DataTypeString(indices.dtype()),
                                                     ", expected int32 or int64"));
    });
  }
  bool IsExpensive() const override { return false; }

 private:
  GatherV2Kernel(const KernelConstruction& c, int64_t axis) : OpKernel(c), axis_(axis) {}
  int64_t axis_;  // as given: may be negative, checked per step
};

// Tile with constant multiples: the input repeated multiples[k] times along each dimension k.
class TileKernel : public OpKernel {
 public:
  static absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelConstruction& c) {
    absl::StatusOr<std::vector<int64_t>> multiples = ConstVector(c, 1, "multiples");
    if (!multiples.ok()) return multiples.status();
    // Whether the multiples are valid does not depend on the input: checked once here.
    for (int64_t m : *multiples) {
      if (m < 0) {
        return absl::InvalidArgumentError(absl::StrCat("input 1 (multiples) is ",
                                                       IntsToString(*multiples),
                                                       ", expected non-negative multiples"));
      }
    }
    return std::unique_ptr<OpKernel>(new TileKernel(c, *std::move(multiples)));
  }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& in = ctx->input(0);
    const int rank = in.rank();
    if (static_cast<int>(multiples_.size()) != rank) {
      return absl::InvalidArgumentError(absl::StrCat("input 1 (multiples) is ",
                                                     IntsToString(multiples_), ", expected ",
                                                     rank, " entries (the rank of input 0)"));
    }
    if (ones_) {  // nothing repeated: the output is the input
      ctx->set_output(0, in);
      return absl::OkStatus();
    }
    TensorShape out_shape;
    for (int k = 0; k < rank; ++k) out_shape.AddDim(in.dim(k) * multiples_[k]);
    absl::StatusOr<Tensor*> out = ctx->allocate_output(0, in.dtype(), out_shape);
    if (!out.ok()) return out.status();
    if ((*out)->num_elements() == 0) return absl::OkStatus();
    absl::StatusOr<GpuDims> dims = ToGpuDims(in.shape(), "input 0");
    if (!dims.ok()) return dims.status();
    LaunchScope scope(ctx);
    if (auto s = scope.Activate(); !s.ok()) return s;
    return ForArrayType(in.dtype(), [&](auto tag) {
      using T = decltype(tag);
      return ToStatus(LaunchTile<T>(in.data<T>(), *dims, multiples_.data(), (*out)->data<T>(),
                                    scope.stream()));
    });
  }
  bool IsExpensive() const override { return false; }

 private:
  TileKernel(const KernelConstruction& c, std::vector<int64_t> multiples)
      : OpKernel(c), multiples_(std::move(multiples)) {
    for (int64_t m : multiples_) ones_ &= m == 1;
  }

  std::vector<int64_t> multiples_;  // none negative
  bool ones_ = true;                // every multiple 1: the output is the input
};

// Fill with constant dims and a constant scalar value: the output's shape and value are known
// at construction; each step fills a new tensor (consumers may update their inputs in place).
class FillKernel : public OpKernel {
 public:
  static absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelConstruction& c) {
    absl::StatusOr<std::vector<int64_t>> dims = ConstVector(c, 0, "dims");
    if (!dims.ok()) return dims.status();
    for (int64_t d : *dims) {
      if (d < 0) {
        return absl::InvalidArgumentError(absl::StrCat("input 0 (dims) is ", IntsToString(*dims),
                                                       ", expected non-negative sizes"));
      }
    }
    absl::StatusOr<Tensor> value = ConstInputValue(c.node(), 1);
    if (!value.ok()) return value.status();
    if (value->rank() != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input 1 (value) has shape ", value->shape().ToString(), ", expected a scalar"));
    }
    if (value->dtype() != c.output_type(0)) {
      return absl::InvalidArgumentError(
          absl::StrCat("input 1 (value) has dtype ", DataTypeString(value->dtype()), ", expected ",
                       DataTypeString(c.output_type(0)), " (attr T)"));
    }
    return std::unique_ptr<OpKernel>(new FillKernel(c, TensorShape(*dims), *std::move(value)));
  }

  absl::Status Compute(KernelContext* ctx) override {
    absl::StatusOr<Tensor*> out = ctx->allocate_output(0, value_.dtype(), shape_);
    if (!out.ok()) return out.status();
    const int64_t n = (*out)->num_elements();
    if (n == 0) return absl::OkStatus();
    LaunchScope scope(ctx);
    if (auto s = scope.Activate(); !s.ok()) return s;
    return ForArrayType(value_.dtype(), [&](auto tag) {
      using T = decltype(tag);
      return ToStatus(LaunchFill<T>((*out)->data<T>(), n, value_.data<T>()[0], scope.stream()));
    });
  }
  bool IsExpensive() const override { return false; }

 private:
  FillKernel(const KernelConstruction& c, TensorShape shape, Tensor value)
      : OpKernel(c), shape_(std::move(shape)), value_(std::move(value)) {}

  TensorShape shape_;
  Tensor value_;  // host memory, a scalar of dtype T
};

// ZerosLike and OnesLike: a fill with the input's shape. The output may take the input's
// buffer (TensorFlow forwards it too): no element of the input is read.
class ConstantLikeKernel : public OpKernel {
 public:
  explicit ConstantLikeKernel(const KernelConstruction& c)
      : OpKernel(c), ones_(c.op() == "OnesLike") {}

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& in = ctx->input(0);
    absl::StatusOr<Tensor*> out =
        ctx->forward_input_or_allocate_output(0, 0, in.dtype(), in.shape());
    if (!out.ok()) return out.status();
    const int64_t n = (*out)->num_elements();
    if (n == 0) return absl::OkStatus();
    LaunchScope scope(ctx);
    if (auto s = scope.Activate(); !s.ok()) return s;
    return ForArrayType(in.dtype(), [&](auto tag) {
      using T = decltype(tag);
      return ToStatus(
          LaunchFill<T>((*out)->data<T>(), n, static_cast<T>(ones_ ? 1 : 0), scope.stream()));
    });
  }
  bool IsExpensive() const override { return false; }

 private:
  bool ones_;
};

// Split (axis: Const input 0, value: input 1) and SplitV (value, size_splits and axis: Const
// inputs 1 and 2) into their outputs along the axis, and Unpack (attrs axis and num): slices of
// one along the axis, which the outputs' shapes drop. Each output is one Slice launch; a split
// into one piece shares the input's buffer.
class SplitKernel : public OpKernel {
 public:
  enum class Kind { kSplit, kSplitV, kUnpack };

  static absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelConstruction& c, Kind kind) {
    int64_t axis = 0;
    std::vector<int64_t> sizes;
    if (kind == Kind::kUnpack) {
      if (auto s = c.GetAttr("axis", &axis); !s.ok()) return s;
    } else {
      absl::StatusOr<int64_t> a = ConstScalar(c, kind == Kind::kSplit ? 0 : 2, "axis");
      if (!a.ok()) return a.status();
      axis = *a;
    }
    if (kind == Kind::kSplitV) {
      absl::StatusOr<std::vector<int64_t>> s = ConstVector(c, 1, "size_splits");
      if (!s.ok()) return s.status();
      sizes = *std::move(s);
      if (static_cast<int>(sizes.size()) != c.num_outputs()) {
        return absl::InvalidArgumentError(
            absl::StrCat("size_splits ", IntsToString(sizes), " has ", sizes.size(),
                         " entries, expected num_split = ", c.num_outputs()));
      }
    }
    return std::unique_ptr<OpKernel>(new SplitKernel(c, kind, axis, std::move(sizes)));
  }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& in = ctx->input(kind_ == Kind::kSplit ? 1 : 0);
    const int rank = in.rank();
    const int n = ctx->num_outputs();
    if (rank == 0) return absl::InvalidArgumentError("the value is a scalar, expected rank >= 1");
    int axis;
    if (auto s = CanonicalAxis(axis_, rank, "axis", &axis); !s.ok()) return s;
    const int64_t dim = in.dim(axis);
    std::vector<int64_t> sizes;
    if (auto s = PieceSizes(dim, axis, n, &sizes); !s.ok()) return s;
    absl::StatusOr<GpuDims> in_dims = ToGpuDims(in.shape(), "the value");
    if (!in_dims.ok()) return in_dims.status();
    std::vector<int64_t> begin(rank, 0);
    for (int k = 0; k < n; ++k) {
      TensorShape out_shape;
      for (int d = 0; d < rank; ++d) {
        if (d != axis) {
          out_shape.AddDim(in.dim(d));
        } else if (kind_ != Kind::kUnpack) {
          out_shape.AddDim(sizes[k]);
        }
      }
      if (sizes[k] == dim) {  // the whole value: share it, as TensorFlow does
        ctx->set_output(k, in.Reshaped(out_shape));
        begin[axis] += sizes[k];
        continue;
      }
      absl::StatusOr<Tensor*> out = ctx->allocate_output(k, in.dtype(), out_shape);
      if (!out.ok()) return out.status();
      if ((*out)->num_elements() > 0) {
        std::vector<int64_t> piece(in.shape().dims().begin(), in.shape().dims().end());
        piece[axis] = sizes[k];
        const GpuDims out_dims(piece.data(), rank);
        LaunchScope scope(ctx);
        if (auto s = scope.Activate(); !s.ok()) return s;
        absl::Status launched = ForArrayType(in.dtype(), [&](auto tag) {
          using T = decltype(tag);
          return ToStatus(LaunchSlice<T>(in.data<T>(), *in_dims, begin.data(), out_dims,
                                         (*out)->data<T>(), scope.stream()));
        });
        if (!launched.ok()) return launched;
      }
      begin[axis] += sizes[k];
    }
    return absl::OkStatus();
  }
  bool IsExpensive() const override { return false; }

 private:
  SplitKernel(const KernelConstruction& c, Kind kind, int64_t axis, std::vector<int64_t> sizes)
      : OpKernel(c), kind_(kind), axis_(axis), sizes_(std::move(sizes)) {}

  // The size of each of the n pieces of a dimension of `dim` elements.
  absl::Status PieceSizes(int64_t dim, int axis, int n, std::vector<int64_t>* sizes) const {
    switch (kind_) {
      case Kind::kSplit:
        if (n <= 0 || dim % n != 0) {
          return absl::InvalidArgumentError(absl::StrCat(
              "dimension ", axis, " of the value has ", dim,
              " elements, which num_split = ", n, " does not divide"));
        }
        sizes->assign(n, dim / n);
        return absl::OkStatus();
      case Kind::kUnpack:
        if (dim != n) {
          return absl::InvalidArgumentError(absl::StrCat("dimension ", axis, " of the value has ",
                                                         dim, " elements, expected num = ", n));
        }
        sizes->assign(n, 1);
        return absl::OkStatus();
      case Kind::kSplitV: {
        *sizes = sizes_;
        int unknown = -1;
        int64_t known = 0;
        for (int k = 0; k < n; ++k) {
          if ((*sizes)[k] == -1 && unknown < 0) {
            unknown = k;
          } else if ((*sizes)[k] < 0) {
            return absl::InvalidArgumentError(absl::StrCat(
                "size_splits ", IntsToString(sizes_),
                " has a negative size other than one -1 (the rest)"));
          } else {
            known += (*sizes)[k];
          }
        }
        if (unknown >= 0) (*sizes)[unknown] = dim - known;
        if ((unknown >= 0 && known > dim) || (unknown < 0 && known != dim)) {
          return absl::InvalidArgumentError(absl::StrCat(
              "size_splits ", IntsToString(sizes_), " does not add up to dimension ", axis,
              " of the value, ", dim));
        }
        return absl::OkStatus();
      }
    }
    return absl::InternalError("unknown split kind");
  }

  const Kind kind_;
  const int64_t axis_;               // as given: may be negative, checked per step
  const std::vector<int64_t> sizes_;  // SplitV's size_splits
};

// Pad and PadV2 with constant paddings ([rank, 2]: before and after per dimension) and, for
// PadV2, a constant padding value.
class PadKernel : public OpKernel {
 public:
  static absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelConstruction& c) {
    absl::StatusOr<Tensor> paddings = ConstInputValue(c.node(), 1);
    if (!paddings.ok()) return paddings.status();
    if (paddings->rank() != 2 || paddings->dim(1) != 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input 1 (paddings) has shape ", paddings->shape().ToString(), ", expected [rank, 2]"));
    }
    absl::StatusOr<std::vector<int64_t>> pads = ConstInputInts(c.node(), 1);
    if (!pads.ok()) return pads.status();
    for (int64_t p : *pads) {
      if (p < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("paddings ", IntsToString(*pads), " has a negative entry"));
      }
    }
    Tensor value;
    if (c.num_inputs() > 2) {
      absl::StatusOr<Tensor> v = ConstInputValue(c.node(), 2);
      if (!v.ok()) return v.status();
      if (v->num_elements() != 1 || v->rank() != 0) {
        return absl::InvalidArgumentError(absl::StrCat("input 2 (constant_values) has shape ",
                                                       v->shape().ToString(),
                                                       ", expected a scalar"));
      }
      value = *std::move(v);
    }
    return std::unique_ptr<OpKernel>(new PadKernel(c, *std::move(pads), std::move(value)));
  }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& in = ctx->input(0);
    const int rank = in.rank();
    if (static_cast<int>(pads_.size()) != 2 * rank) {
      return absl::InvalidArgumentError(absl::StrCat("paddings has ", pads_.size() / 2,
                                                     " rows, expected ", rank,
                                                     " (the rank of input 0)"));
    }
    TensorShape out_shape;
    std::vector<int64_t> before(rank);
    bool identity = true;
    for (int d = 0; d < rank; ++d) {
      before[d] = pads_[2 * d];
      identity &= pads_[2 * d] == 0 && pads_[2 * d + 1] == 0;
      out_shape.AddDim(in.dim(d) + pads_[2 * d] + pads_[2 * d + 1]);
    }
    if (identity) {
      ctx->set_output(0, in);
      return absl::OkStatus();
    }
    absl::StatusOr<Tensor*> out = ctx->allocate_output(0, in.dtype(), out_shape);
    if (!out.ok()) return out.status();
    if ((*out)->num_elements() == 0) return absl::OkStatus();
    if (value_.IsInitialized() && value_.dtype() != in.dtype()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "constant_values is ", DataTypeString(value_.dtype()), ", expected ",
          DataTypeString(in.dtype()), " (input 0's)"));
    }
    absl::StatusOr<GpuDims> in_dims = ToGpuDims(in.shape(), "input 0");
    if (!in_dims.ok()) return in_dims.status();
    const GpuDims out_dims(out_shape.dims().data(), rank);
    LaunchScope scope(ctx);
    if (auto s = scope.Activate(); !s.ok()) return s;
    return ForArrayType(in.dtype(), [&](auto tag) {
      using T = decltype(tag);
      const T value = value_.IsInitialized() ? value_.data<T>()[0] : T{};
      return ToStatus(LaunchPad<T>(in.data<T>(), *in_dims, before.data(), out_dims, value,
                                   (*out)->data<T>(), scope.stream()));
    });
  }
  bool IsExpensive() const override { return false; }

 private:
  PadKernel(const KernelConstruction& c, std::vector<int64_t> pads, Tensor value)
      : OpKernel(c), pads_(std::move(pads)), value_(std::move(value)) {}
  const std::vector<int64_t> pads_;  // before and after, per dimension
  const Tensor value_;               // PadV2's constant_values, on the host; empty for Pad
};

// Pack (TensorFlow's stack): N inputs of one shape joined along a new axis, as a concatenation
// of pieces of size one.
class PackKernel : public OpKernel {
 public:
  static absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelConstruction& c) {
    int64_t axis = 0;
    if (auto s = c.GetAttr("axis", &axis); !s.ok()) return s;
    return std::unique_ptr<OpKernel>(new PackKernel(c, axis));
  }

  absl::Status Compute(KernelContext* ctx) override {
    const int n = ctx->num_inputs();
    const Tensor& first = ctx->input(0);
    const int rank = first.rank();
    int axis;
    if (auto s = CanonicalAxis(axis_, rank + 1, "axis", &axis); !s.ok()) return s;
    for (int i = 1; i < n; ++i) {
      if (!(ctx->input(i).shape() == first.shape())) {
        return absl::InvalidArgumentError(
            absl::StrCat("input ", i, " has shape ", ctx->input(i).shape().ToString(),
                         ", expected ", first.shape().ToString(), " (input 0's)"));
      }
    }
    std::vector<int64_t> dims(first.shape().dims().begin(), first.shape().dims().end());
    dims.insert(dims.begin() + axis, n);
    TensorShape out_shape;
    for (int64_t d : dims) out_shape.AddDim(d);
    absl::StatusOr<Tensor*> out = ctx->allocate_output(0, first.dtype(), out_shape);
    if (!out.ok()) return out.status();
    if ((*out)->num_elements() == 0) return absl::OkStatus();
    const int64_t outer = Product(first.shape().dims(), 0, axis);
    const int64_t inner = Product(first.shape().dims(), axis, rank);
    const absl::InlinedVector<int64_t, 16> ones(n, 1);
    return EnqueueConcat(ctx, n, ones.data(), outer, inner, *out);
  }
  bool IsExpensive() const override { return false; }

 private:
  PackKernel(const KernelConstruction& c, int64_t axis) : OpKernel(c), axis_(axis) {}
  int64_t axis_;  // as given: in [-(rank + 1), rank + 1), checked per step
};

}  // namespace

void RegisterGpuArrayKernels(KernelRegistry& registry) {
  const std::vector<DataType>& types = ArrayTypes();

  KernelDef transpose{"Transpose", kDeviceGpu, "T", types, TransposeKernel::Create};
  transpose.constraint = ConstInputs({1});
  registry.Register(std::move(transpose));

  // The axis is the last input, after the N values.
  KernelDef concat{"ConcatV2", kDeviceGpu, "T", types, ConcatV2Kernel::Create};
  concat.constraint = [](const Node& node) { return ConstInputs({node.num_inputs() - 1})(node); };
  registry.Register(std::move(concat));

  KernelDef slice{"Slice", kDeviceGpu, "T", types, SliceKernel::Create};
  slice.constraint = ConstInputs({1, 2});
  registry.Register(std::move(slice));

  KernelDef strided_slice{"StridedSlice", kDeviceGpu, "T", types, StridedSliceKernel::Create};
  strided_slice.constraint = [](const Node& node) -> absl::Status {
    // Index may be int16, which ConstInputInts does not read.
    if (auto s = Int32OrInt64Input(node, 1, "begin"); !s.ok()) return s;
    return ConstInputs({1, 2, 3})(node);
  };
  registry.Register(std::move(strided_slice));

  KernelDef gather{"GatherV2", kDeviceGpu, "Tparams", types, GatherV2Kernel::Create};
  gather.constraint = GatherV2Kernel::Accepts;
  registry.Register(std::move(gather));

  KernelDef tile{"Tile", kDeviceGpu, "T", types, TileKernel::Create};
  tile.constraint = ConstInputs({1});
  registry.Register(std::move(tile));

  KernelDef fill{"Fill", kDeviceGpu, "T", types, FillKernel::Create};
  fill.constraint = ConstInputs({0, 1});
  registry.Register(std::move(fill));

  for (const char* op : {"ZerosLike", "OnesLike"}) {
    registry.Register({op, kDeviceGpu, "T", types, MakeFactory<ConstantLikeKernel>()});
  }

  auto split = [](SplitKernel::Kind kind) -> KernelFactory {
    return [kind](const KernelConstruction& c) { return SplitKernel::Create(c, kind); };
  };
  KernelDef split_def{"Split", kDeviceGpu, "T", types, split(SplitKernel::Kind::kSplit)};
  split_def.constraint = ConstInputs({0});
  registry.Register(std::move(split_def));
  KernelDef split_v{"SplitV", kDeviceGpu, "T", types, split(SplitKernel::Kind::kSplitV)};
  split_v.constraint = [](const Node& node) -> absl::Status {
    if (auto s = Int32OrInt64Input(node, 1, "size_splits"); !s.ok()) return s;
    return ConstInputs({1, 2})(node);
  };
  registry.Register(std::move(split_v));
  registry.Register({"Unpack", kDeviceGpu, "T", types, split(SplitKernel::Kind::kUnpack)});
  registry.Register({"Pack", kDeviceGpu, "T", types, PackKernel::Create});

  KernelDef pad{"Pad", kDeviceGpu, "T", types, PadKernel::Create};
  pad.constraint = [](const Node& node) -> absl::Status {
    if (auto s = Int32OrInt64Input(node, 1, "paddings"); !s.ok()) return s;
    return ConstInputs({1})(node);
  };
  registry.Register(std::move(pad));
  KernelDef pad_v2{"PadV2", kDeviceGpu, "T", types, PadKernel::Create};
  pad_v2.constraint = [](const Node& node) -> absl::Status {
    if (auto s = Int32OrInt64Input(node, 1, "paddings"); !s.ok()) return s;
    return ConstInputs({1, 2})(node);
  };
  registry.Register(std::move(pad_v2));
}

}  // namespace gpu
}  // namespace weir
