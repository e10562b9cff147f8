// reduction_ops.cc - Sum, Mean, Max, Min, Prod, ArgMax and ArgMin on the GPU: OpKernels over
// the launchers of kernels/gpu/reduction.h, for float, int32 and int64.
//
// The axes (reduction_indices, ArgMax's dimension) are host-memory arguments in TensorFlow;
// here they are read once, at construction, from their Const node (gpu_op_util.h) and checked
// against each step's input shape, which may change between steps. The output shape is
// computed per step the same way.
//
// The launchers compute ArgMax/ArgMin indices as int64; output_type int32 takes a temporary
// int64 tensor and a Cast launch after it.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "kernels/gpu/cast_fill.h"
#include "kernels/gpu/ops/gpu_op_util.h"
#include "kernels/gpu/reduction.h"

namespace weir {
namespace gpu {
namespace {

// The element types the reduction launchers are instantiated for.
const std::vector<DataType>& ReductionTypes() {
  static const std::vector<DataType> types = {DT_FLOAT, DT_INT32, DT_INT64};
  return types;
}

// Calls fn(T{}) for the reduction launchers' types (float, int32, int64).
template <typename Fn>
absl::Status ForReductionType(DataType dtype, Fn&& fn) {
  return ForLauncherType</*kWithBool=*/false>(dtype, std::forward<Fn>(fn));
}

// Sum, Mean, Max, Min and Prod over the axes of a constant reduction_indices input.
class ReduceKernel : public OpKernel {
 public:
  static KernelFactory Factory(ReduceOp op) {
    return [op](const KernelConstruction& c) -> absl::StatusOr<std::unique_ptr<OpKernel>> {
      bool keep_dims = false;
      if (auto s = c.GetAttr("keep_dims", &keep_dims); !s.ok()) return s;
      absl::StatusOr<Tensor> axes = ConstInputValue(c.node(), 1);
      if (!axes.ok()) return axes.status();
      if (axes->rank() > 1) {
        return absl::InvalidArgumentError(absl::StrCat("input 1 (reduction_indices) has shape ",
                                                       axes->shape().ToString(),
                                                       ", expected a scalar or a vector"));
      }
      absl::StatusOr<std::vector<int64_t>> values = ConstInputInts(c.node(), 1);
      if (!values.ok()) return values.status();
      return std::unique_ptr<OpKernel>(new ReduceKernel(c, op, keep_dims, *std::move(values)));
    };
  }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& in = ctx->input(0);
    // No axes reduce nothing: the output is the input (as the CPU kernel and TensorFlow), at
    // any rank.
    if (axes_.empty()) {
      ctx->set_output(0, in);
      return absl::OkStatus();
    }
    const int rank = in.rank();
    absl::InlinedVector<bool, kMaxGpuRank> reduced(rank, false);
    for (int64_t axis : axes_) {
      if (axis < -rank || axis >= rank) {
        return absl::InvalidArgumentError(
            absl::StrCat("axis ", axis, " is out of range for input 0 of shape ",
                         in.shape().ToString(), " (expected in [", -rank, ", ", rank, "))"));
      }
      reduced[axis < 0 ? axis + rank : axis] = true;
    }
    TensorShape out_shape;
    for (int i = 0; i < rank; ++i) {
      if (reduced[i]) {
        if (keep_dims_) out_shape.AddDim(1);
      } else {
        out_shape.AddDim(in.dim(i));
      }
    }
    absl::StatusOr<Tensor*> out = ctx->allocate_output(0, in.dtype(), out_shape);
    if (!out.ok()) return out.status();
    if ((*out)->num_elements() == 0) return absl::OkStatus();
    // The launcher's view: size-1 dimensions dropped and neighbours that are both reduced or
    // both kept merged (what its ReducePlan does anyway), with the axes normalized and without
    // repeats. The kept dimensions stay in order, so the output's layout is unchanged, and an
    // input of rank > kMaxGpuRank reduces too unless more than kMaxGpuRank runs alternate.
    GpuDims dims;
    int64_t axes[kMaxGpuRank];
    int num_axes = 0;
    bool last_reduced = false;
    for (int i = 0; i < rank; ++i) {
      if (in.dim(i) == 1) continue;
      if (dims.rank > 0 && reduced[i] == last_reduced) {
        dims.dims[dims.rank - 1] *= in.dim(i);
        continue;
      }
      if (dims.rank == kMaxGpuRank) {
        return absl::InvalidArgumentError(absl::StrCat(
            "input 0 has shape ", in.shape().ToString(), " and the reduction's kept and reduced ",
            "dimensions alternate more than ", kMaxGpuRank, " times; the GPU kernel takes at most ",
            kMaxGpuRank, " runs"));
      }
      if (reduced[i]) axes[num_axes++] = dims.rank;
      dims.dims[dims.rank++] = in.dim(i);
      last_reduced = reduced[i];
    }
    // The two-pass split's partials. Freed when this returns, after the launch is enqueued:
    // the allocator may hand the block out again at once, but only to work enqueued after
    // this reduction on the same ordered streams. Without the memory the launcher reduces in
    // one pass (correct, only slower), so a failed allocation is not an error.
    const size_t workspace_bytes =
        ReduceWorkspaceBytes(dims, axes, num_axes, DataTypeSize(in.dtype()));
    Tensor workspace;
    if (workspace_bytes > 0) {
      workspace = Tensor(ctx->device()->allocator(), DT_UINT8,
                         TensorShape({static_cast<int64_t>(workspace_bytes)}));
    }
    void* workspace_data = workspace.raw_data();
    const size_t usable_bytes = workspace_data != nullptr ? workspace_bytes : 0;

    LaunchScope scope(ctx);
    if (auto s = scope.Activate(); !s.ok()) return s;
    return ForReductionType(in.dtype(), [&](auto tag) {
      using T = decltype(tag);
      return ToStatus(LaunchReduce<T>(op_, in.data<T>(), dims, axes, num_axes, (*out)->data<T>(),
                                      workspace_data, usable_bytes, scope.stream()));
    });
  }
  bool IsExpensive() const override { return false; }

 private:
  ReduceKernel(const KernelConstruction& c, ReduceOp op, bool keep_dims, std::vector<int64_t> axes)
      : OpKernel(c), op_(op), keep_dims_(keep_dims), axes_(std::move(axes)) {}

  ReduceOp op_;
  bool keep_dims_;
  std::vector<int64_t> axes_;  // as given: negative, repeated, checked per step
};

// ArgMax and ArgMin along the axis of a constant scalar `dimension` input; output_type int64
// or int32.
class ArgReduceKernel : public OpKernel {
 public:
  static KernelFactory Factory(ArgReduceOp op) {
    return [op](const KernelConstruction& c) -> absl::StatusOr<std::unique_ptr<OpKernel>> {
      absl::StatusOr<Tensor> dimension = ConstInputValue(c.node(), 1);
      if (!dimension.ok()) return dimension.status();
      if (dimension->rank() != 0) {
        return absl::InvalidArgumentError(absl::StrCat("input 1 (dimension) has shape ",
                                                       dimension->shape().ToString(),
                                                       ", expected a scalar"));
      }
      absl::StatusOr<std::vector<int64_t>> axis = ConstInputInts(c.node(), 1);
      if (!axis.ok()) return axis.status();
      const DataType output_type = c.output_type(0);
      if (output_type != DT_INT32 && output_type != DT_INT64) {
        return absl::InvalidArgumentError(absl::StrCat(
            "output_type is ", DataTypeString(output_type), ", expected int32 or int64"));
      }
      return std::unique_ptr<OpKernel>(new ArgReduceKernel(c, op, (*axis)[0], output_type));
    };
  }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& in = ctx->input(0);
    const int rank = in.rank();
    if (axis_ < -rank || axis_ >= rank) {
      return absl::InvalidArgumentError(
          absl::StrCat("axis ", axis_, " is out of range for input 0 of shape ",
                       in.shape().ToString(), " (expected in [", -rank, ", ", rank, "))"));
    }
    const int axis = static_cast<int>(axis_ < 0 ? axis_ + rank : axis_);
    // TensorFlow refuses an empty axis even when the output is empty too: there is no index
    // to return.
    if (in.dim(axis) == 0) {
      return absl::InvalidArgumentError(absl::StrCat("input 0 has shape ", in.shape().ToString(),
                                                     ", expected a non-empty ", "dimension ", axis,
                                                     " to take the ", op(), " over"));
    }
    // The launcher's view: [outer, axis size, inner] and axis 1, the same offsets as the
    // input's own shape, at any rank (passing the shape itself refused rank > kMaxGpuRank,
    // which the CPU kernel takes).
    TensorShape out_shape;
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < rank; ++i) {
      if (i == axis) continue;
      out_shape.AddDim(in.dim(i));
      (i < axis ? outer : inner) *= in.dim(i);
    }
    const GpuDims dims{outer, in.dim(axis), inner};
    absl::StatusOr<Tensor*> out = ctx->allocate_output(0, output_type_, out_shape);
    if (!out.ok()) return out.status();
    const int64_t n = (*out)->num_elements();
    if (n == 0) return absl::OkStatus();
    // The launcher writes int64 indices; for int32 they go through a temporary and a Cast,
    // freed after both launches are enqueued (the stream orders the block's next use).
    Tensor indices;
    if (output_type_ == DT_INT32) {
      indices = Tensor(ctx->device()->allocator(), DT_INT64, out_shape);
      if (indices.raw_data() == nullptr) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "out of memory allocating ", indices.TotalBytes(), " bytes of int64 indices (shape ",
            out_shape.ToString(), ") on ", ctx->device()->name()));
      }
    }
    int64_t* index_data =
        output_type_ == DT_INT64 ? (*out)->data<int64_t>() : indices.data<int64_t>();

    LaunchScope scope(ctx);
    if (auto s = scope.Activate(); !s.ok()) return s;
    absl::Status launched = ForReductionType(in.dtype(), [&](auto tag) {
      using T = decltype(tag);
      return ToStatus(
          LaunchArgReduce<T>(op_, in.data<T>(), dims, /*axis=*/1, index_data, scope.stream()));
    });
    if (!launched.ok() || output_type_ == DT_INT64) return launched;
    return ToStatus(
        LaunchCast<int64_t, int32_t>(index_data, (*out)->data<int32_t>(), n, scope.stream()));
  }
  bool IsExpensive() const override { return false; }

 private:
  ArgReduceKernel(const KernelConstruction& c, ArgReduceOp op, int64_t axis, DataType output_type)
      : OpKernel(c), op_(op), axis_(axis), output_type_(output_type) {}

  ArgReduceOp op_;
  int64_t axis_;  // as given: may be negative, checked per step
  DataType output_type_;
};

}  // namespace

void RegisterGpuReductionKernels(KernelRegistry& registry) {
  const std::vector<DataType>& types = ReductionTypes();
  struct Reduction {
    const char* op;
    ReduceOp reduce;
  };
  for (const Reduction& r : {Reduction{"Sum", ReduceOp::kSum}, Reduction{"Mean", ReduceOp::kMean},
                             Reduction{"Max", ReduceOp::kMax}, Reduction{"Min", ReduceOp::kMin},
                             Reduction{"Prod", ReduceOp::kProd}}) {
    KernelDef def{r.op, kDeviceGpu, "T", types, ReduceKernel::Factory(r.reduce)};
    def.constraint = ConstInputs({1});
    registry.Register(std::move(def));
  }
  KernelDef arg_max{"ArgMax", kDeviceGpu, "T", types,
                    ArgReduceKernel::Factory(ArgReduceOp::kArgMax)};
  arg_max.constraint = ConstInputs({1});
  registry.Register(std::move(arg_max));
  KernelDef arg_min{"ArgMin", kDeviceGpu, "T", types,
                    ArgReduceKernel::Factory(ArgReduceOp::kArgMin)};
  arg_min.constraint = ConstInputs({1});
  registry.Register(std::move(arg_min));
}

}  // namespace gpu
}  // namespace weir
