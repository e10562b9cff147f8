// array_extra_kernels.cc - Data movement on the CPU: StridedSlice, Slice, Pack, Unpack,
// GatherV2, Gather, Split and SplitV.
//
// Every kernel moves bytes, so one instantiation per element size serves every fixed-size
// dtype. StridedSlice shares its index arithmetic with the shape function
// (graph/ops/strided_slice_spec.h), so the two cannot disagree.
#include "kernels/cpu/array_extra_kernels.h"

#include <string>
#include <vector>

#include "graph/ops/strided_slice_spec.h"
#include "kernels/cpu/registry.h"

namespace weir {
namespace {

using array_extra::CanonicalAxis;
using array_extra::DataMovementTypes;
using array_extra::GatherByMaps;
using array_extra::IndexValues;
using array_extra::IntsToString;
using array_extra::Product;
using array_extra::ScalarIndex;
using array_extra::VectorIndex;

class StridedSliceKernel : public OpKernel {
 public:
  explicit StridedSliceKernel(const KernelConstruction& c) : OpKernel(c) {
    c.GetAttr("begin_mask", &masks_.begin_mask).IgnoreError();
    c.GetAttr("end_mask", &masks_.end_mask).IgnoreError();
    c.GetAttr("ellipsis_mask", &masks_.ellipsis_mask).IgnoreError();
    c.GetAttr("new_axis_mask", &masks_.new_axis_mask).IgnoreError();
    c.GetAttr("shrink_axis_mask", &masks_.shrink_axis_mask).IgnoreError();
  }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& in = ctx->input(0);
    std::vector<int64_t> begin, end, strides;
    if (auto s = VectorIndex(ctx, 1, "begin", &begin); !s.ok()) return s;
    if (auto s = VectorIndex(ctx, 2, "end", &end); !s.ok()) return s;
    if (auto s = VectorIndex(ctx, 3, "strides", &strides); !s.ok()) return s;
    StridedSliceDense dense;
    if (auto s = ComputeStridedSlice(in.shape().dims(), begin, end, strides, masks_, &dense);
        !s.ok()) {
      return s;
    }
    std::vector<std::vector<int64_t>> maps(in.rank());
    for (int k = 0; k < in.rank(); ++k) {
      maps[k].resize(dense.processing_dims[k]);
      for (int64_t j = 0; j < dense.processing_dims[k]; ++j) {
        maps[k][j] = dense.begin[k] + j * dense.stride[k];
      }
    }
    absl::StatusOr<Tensor*> out =
        ctx->allocate_output(0, in.dtype(), TensorShape(dense.final_dims));
    if (!out.ok()) return out.status();
    if ((*out)->num_elements() == 0) return absl::OkStatus();
    return GatherByMaps(in.dtype(), in.raw_data(), in.shape().dims(), maps, nullptr,
                        (*out)->raw_data());
  }

 private:
  StridedSliceMasks masks_;
};

class SliceKernel : public OpKernel {
 public:
  explicit SliceKernel(const KernelConstruction& c) : OpKernel(c) {}

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& in = ctx->input(0);
    std::vector<int64_t> begin, size;
    if (auto s = VectorIndex(ctx, 1, "begin", &begin); !s.ok()) return s;
    if (auto s = VectorIndex(ctx, 2, "size", &size); !s.ok()) return s;
    const int rank = in.rank();
    if (static_cast<int>(begin.size()) != rank || static_cast<int>(size.size()) != rank) {
      return absl::InvalidArgumentError(absl::StrCat(
          "begin ", IntsToString(begin), " and size ", IntsToString(size), " have ", begin.size(),
          " and ", size.size(), " entries, expected ", rank, " (the rank of input 0)"));
    }
    std::vector<std::vector<int64_t>> maps(rank);
    TensorShape out_shape;
    for (int k = 0; k < rank; ++k) {
      const int64_t dim = in.dim(k);
      const int64_t sz = size[k] == -1 ? dim - begin[k] : size[k];
      if (begin[k] < 0 || begin[k] > dim || sz < 0 || begin[k] + sz > dim) {
        return absl::InvalidArgumentError(
            absl::StrCat("slice of dimension ", k, " with begin ", begin[k], " and size ", size[k],
                         " is out of bounds, expected 0 <= begin <= begin + size <= ", dim));
      }
      maps[k].resize(sz);
      for (int64_t j = 0; j < sz; ++j) maps[k][j] = begin[k] + j;
      out_shape.AddDim(sz);
    }
    absl::StatusOr<Tensor*> out = ctx->allocate_output(0, in.dtype(), out_shape);
    if (!out.ok()) return out.status();
    if ((*out)->num_elements() == 0) return absl::OkStatus();
    return GatherByMaps(in.dtype(), in.raw_data(), in.shape().dims(), maps, nullptr,
                        (*out)->raw_data());
  }
};

class PackKernel : public OpKernel {
 public:
  explicit PackKernel(const KernelConstruction& c) : OpKernel(c) {
    c.GetAttr("axis", &axis_).IgnoreError();
  }

  absl::Status Compute(KernelContext* ctx) override {
    const int n = ctx->num_inputs();
    const Tensor& first = ctx->input(0);
    for (int i = 1; i < n; ++i) {
      if (ctx->input(i).shape() != first.shape()) {
        return absl::InvalidArgumentError(
            absl::StrCat("input ", i, " has shape ", ctx->input(i).shape().ToString(),
                         ", expected ", first.shape().ToString(), " (the shape of input 0)"));
      }
    }
    int axis;
    if (auto s = CanonicalAxis(axis_, first.rank() + 1, "axis", &axis); !s.ok()) return s;
    std::vector<int64_t> dims = first.shape().dims();
    dims.insert(dims.begin() + axis, n);
    absl::StatusOr<Tensor*> out = ctx->allocate_output(0, first.dtype(), TensorShape(dims));
    if (!out.ok()) return out.status();
    if ((*out)->num_elements() == 0) return absl::OkStatus();
    const int64_t outer = Product(dims, 0, axis);
    const size_t chunk = Product(dims, axis + 1, dims.size()) * DataTypeSize(first.dtype());
    char* dst = static_cast<char*>((*out)->raw_data());
    for (int64_t o = 0; o < outer; ++o) {
      for (int i = 0; i < n; ++i) {
        std::memcpy(dst, static_cast<const char*>(ctx->input(i).raw_data()) + o * chunk, chunk);
        dst += chunk;
      }
    }
    return absl::OkStatus();
  }

 private:
  int64_t axis_ = 0;
};

// Copies consecutive chunks of `in` along `axis` into outputs with `sizes` entries each.
absl::Status SplitInto(KernelContext* ctx, const Tensor& in, int axis,
                       const std::vector<int64_t>& sizes, bool keep_axis) {
  const DimsView dims = in.shape().dims();
  const int64_t outer = Product(dims, 0, axis);
  const size_t inner_bytes = Product(dims, axis + 1, dims.size()) * DataTypeSize(in.dtype());
  const size_t row_bytes = dims[axis] * inner_bytes;
  size_t offset = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    std::vector<int64_t> out_dims = dims;
    if (keep_axis) {
      out_dims[axis] = sizes[i];
    } else {
      out_dims.erase(out_dims.begin() + axis);
    }
    absl::StatusOr<Tensor*> out =
        ctx->allocate_output(static_cast<int>(i), in.dtype(), TensorShape(out_dims));
    if (!out.ok()) return out.status();
    const size_t chunk = sizes[i] * inner_bytes;
    char* dst = static_cast<char*>((*out)->raw_data());
    for (int64_t o = 0; chunk > 0 && o < outer; ++o) {
      std::memcpy(dst + o * chunk, static_cast<const char*>(in.raw_data()) + o * row_bytes + offset,
                  chunk);
    }
    offset += chunk;
  }
  return absl::OkStatus();
}

class UnpackKernel : public OpKernel {
 public:
  explicit UnpackKernel(const KernelConstruction& c) : OpKernel(c) {
    c.GetAttr("axis", &axis_).IgnoreError();
  }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& in = ctx->input(0);
    int axis;
    if (auto s = CanonicalAxis(axis_, in.rank(), "axis", &axis); !s.ok()) return s;
    if (in.dim(axis) != ctx->num_outputs()) {
      return absl::InvalidArgumentError(
          absl::StrCat("input 0 has shape ", in.shape().ToString(), ", expected size ",
                       ctx->num_outputs(), " (num) along axis ", axis, ", found ", in.dim(axis)));
    }
    return SplitInto(ctx, in, axis, std::vector<int64_t>(ctx->num_outputs(), 1), false);
  }

 private:
  int64_t axis_ = 0;
};

class SplitKernel : public OpKernel {
 public:
  explicit SplitKernel(const KernelConstruction& c) : OpKernel(c) {}

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& in = ctx->input(1);
    int64_t axis_value;
    if (auto s = ScalarIndex(ctx, 0, "split_dim", &axis_value); !s.ok()) return s;
    int axis;
    if (auto s = CanonicalAxis(axis_value, in.rank(), "input 0 (split_dim)", &axis); !s.ok()) {
      return s;
    }
    const int n = ctx->num_outputs();
    if (in.dim(axis) % n != 0) {
      return absl::InvalidArgumentError(absl::StrCat("input 1 has shape ", in.shape().ToString(),
                                                     ": size ", in.dim(axis), " along axis ", axis,
                                                     " is not divisible by num_split ", n));
    }
    return SplitInto(ctx, in, axis, std::vector<int64_t>(n, in.dim(axis) / n), true);
  }
};

class SplitVKernel : public OpKernel {
 public:
  explicit SplitVKernel(const KernelConstruction& c) : OpKernel(c) {}

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& in = ctx->input(0);
    std::vector<int64_t> sizes;
    if (auto s = VectorIndex(ctx, 1, "size_splits", &sizes); !s.ok()) return s;
    int64_t axis_value;
    if (auto s = ScalarIndex(ctx, 2, "split_dim", &axis_value); !s.ok()) return s;
    int axis;
    if (auto s = CanonicalAxis(axis_value, in.rank(), "input 2 (split_dim)", &axis); !s.ok()) {
      return s;
    }
    const int n = ctx->num_outputs();
    if (static_cast<int>(sizes.size()) != n) {
      return absl::InvalidArgumentError(absl::StrCat("input 1 (size_splits) is ",
                                                     IntsToString(sizes), ", expected ", n,
                                                     " entries (num_split)"));
    }
    const int64_t d = in.dim(axis);
    int inferred = -1;
    int64_t known_sum = 0;
    for (int i = 0; i < n; ++i) {
      if (sizes[i] == -1 && inferred < 0) {
        inferred = i;
      } else if (sizes[i] < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("input 1 (size_splits) is ", IntsToString(sizes),
                         ", expected non-negative sizes and at most one -1"));
      } else {
        known_sum += sizes[i];
      }
    }
    if ((inferred < 0 && known_sum != d) || (inferred >= 0 && known_sum > d)) {
      return absl::InvalidArgumentError(
          absl::StrCat("input 1 (size_splits) is ", IntsToString(sizes), ", expected sizes ",
                       inferred < 0 ? "summing to " : "summing to at most ", d,
                       " (the size of input 0 along axis ", axis, ")"));
    }
    if (inferred >= 0) sizes[inferred] = d - known_sum;
    return SplitInto(ctx, in, axis, sizes, true);
  }
};

// GatherV2 (and Gather, with axis 0): output = params[:axis] + indices[batch_dims:] +
// params[axis + 1:], the first batch_dims dimensions shared by params and indices.
class GatherKernel : public OpKernel {
 public:
  explicit GatherKernel(const KernelConstruction& c) : OpKernel(c), v2_(c.op() == "GatherV2") {
    if (v2_) c.GetAttr("batch_dims", &batch_dims_).IgnoreError();
  }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& params = ctx->input(0);
    const Tensor& indices = ctx->input(1);
    int64_t axis_value = 0;
    if (v2_) {
      if (auto s = ScalarIndex(ctx, 2, "axis", &axis_value); !s.ok()) return s;
    }
    int64_t batch_dims = batch_dims_;
    if (batch_dims < -indices.rank() || batch_dims > indices.rank()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "batch_dims is ", batch_dims, ", expected a value in [", -indices.rank(), ", ",
          indices.rank(), "] for indices of shape ", indices.shape().ToString()));
    }
    if (batch_dims < 0) batch_dims += indices.rank();
    if (params.rank() < 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input 0 (params) has shape ", params.shape().ToString(), ", expected rank >= 1"));
    }
    int axis;
    if (auto s = CanonicalAxis(axis_value, params.rank(), "axis", &axis); !s.ok()) return s;
    if (batch_dims > axis) {
      return absl::InvalidArgumentError(
          absl::StrCat("batch_dims is ", batch_dims, ", expected at most axis (", axis, ")"));
    }
    for (int k = 0; k < batch_dims; ++k) {
      if (params.dim(k) != indices.dim(k)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "input 0 (params) has shape ", params.shape().ToString(), " and input 1 (indices) ",
            indices.shape().ToString(), ", expected equal batch dimension ", k));
      }
    }
    const DimsView pd = params.shape().dims();
    const DimsView id = indices.shape().dims();
    std::vector<int64_t> out_dims(pd.begin(), pd.begin() + axis);
    out_dims.insert(out_dims.end(), id.begin() + batch_dims, id.end());
    out_dims.insert(out_dims.end(), pd.begin() + axis + 1, pd.end());
    const int64_t batch = Product(pd, 0, batch_dims);
    const int64_t outer = Product(pd, batch_dims, axis);
    const int64_t limit = pd[axis];
    const size_t inner_bytes = Product(pd, axis + 1, pd.size()) * DataTypeSize(params.dtype());
    const int64_t per_batch = Product(id, batch_dims, id.size());
    const std::vector<int64_t> index = IndexValues(indices);
    for (size_t j = 0; j < index.size(); ++j) {
      if (index[j] < 0 || index[j] >= limit) {
        std::vector<int64_t> at(id.size());
        int64_t rest = static_cast<int64_t>(j);
        for (int k = static_cast<int>(id.size()) - 1; k >= 0; --k) {
          at[k] = rest % id[k];
          rest /= id[k];
        }
        return absl::InvalidArgumentError(absl::StrCat("indices", IntsToString(at), " = ", index[j],
                                                       " is not in [0, ", limit, ")"));
      }
    }
    absl::StatusOr<Tensor*> out = ctx->allocate_output(0, params.dtype(), TensorShape(out_dims));
    if (!out.ok()) return out.status();
    if ((*out)->num_elements() == 0) return absl::OkStatus();
    const char* src = static_cast<const char*>(params.raw_data());
    char* dst = static_cast<char*>((*out)->raw_data());
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t o = 0; o < outer; ++o) {
        const char* slab = src + ((b * outer + o) * limit) * inner_bytes;
        for (int64_t i = 0; i < per_batch; ++i) {
          std::memcpy(dst, slab + index[b * per_batch + i] * inner_bytes, inner_bytes);
          dst += inner_bytes;
        }
      }
    }
    return absl::OkStatus();
  }

 private:
  bool v2_;
  int64_t batch_dims_ = 0;
};

}  // namespace

void RegisterCpuArrayExtraKernels(KernelRegistry& registry) {
  const std::vector<DataType>& types = DataMovementTypes();
  registry.Register({"StridedSlice", kDeviceCpu, "T", types, MakeFactory<StridedSliceKernel>()});
  registry.Register({"Slice", kDeviceCpu, "T", types, MakeFactory<SliceKernel>()});
  registry.Register({"Pack", kDeviceCpu, "T", types, MakeFactory<PackKernel>()});
  registry.Register({"Unpack", kDeviceCpu, "T", types, MakeFactory<UnpackKernel>()});
  registry.Register({"GatherV2", kDeviceCpu, "Tparams", types, MakeFactory<GatherKernel>()});
  registry.Register({"Gather", kDeviceCpu, "Tparams", types, MakeFactory<GatherKernel>()});
  registry.Register({"Split", kDeviceCpu, "T", types, MakeFactory<SplitKernel>()});
  registry.Register({"SplitV", kDeviceCpu, "T", types, MakeFactory<SplitVKernel>()});
  array_extra::RegisterFillPadKernels(registry);
}

}  // namespace weir
