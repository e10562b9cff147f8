// nn_grad_ops.cc - The GPU kernels a training step needs beyond the forward ops: the activation
// gradients (ReluGrad, Relu6Grad, SigmoidGrad, TanhGrad), BiasAddGrad and the softmax
// cross-entropy losses (SparseSoftmaxCrossEntropyWithLogits, SoftmaxCrossEntropyWithLogits),
// over the launchers of kernels/gpu/nn_grad.h and reduction.h.
//
// Shapes and messages follow the CPU kernels (kernels/cpu/nn_grad_kernels.cc, loss_kernels.cc).
// One difference, as in TensorFlow's GPU kernel: a sparse label outside [0, classes) cannot fail
// the step without waiting for the GPU, so that row's loss and backprop are NaN instead of an
// error.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "kernels/gpu/gpu_status.h"
#include "kernels/gpu/nn_grad.h"
#include "kernels/gpu/ops/gpu_op_util.h"
#include "kernels/gpu/reduction.h"

namespace weir {
namespace gpu {
namespace {

using KernelOr = absl::StatusOr<std::unique_ptr<OpKernel>>;

// ---------------------------------------------------------------------------------------------
// Activation gradients: two inputs of one shape, one output of that shape. The output takes
// over an input that dies here (the launcher reads each element before writing it).

template <typename T>
class ActivationGradKernel : public OpKernel {
 public:
  ActivationGradKernel(const KernelConstruction& c, ActivationGradOp op) : OpKernel(c), op_(op) {}

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& a = ctx->input(0);
    const Tensor& b = ctx->input(1);
    if (a.shape() != b.shape()) {
      return absl::InvalidArgumentError(absl::StrCat("input 1 has shape ", b.shape().ToString(),
                                                     ", expected ", a.shape().ToString(),
                                                     " (the shape of input 0)"));
    }
    // forward_input_or_allocate_output allocates when the input it is given is still read
    // elsewhere: try input 1 when input 0 cannot be taken.
    const int forward = a.RefCountIsOne() ? 0 : 1;
    absl::StatusOr<Tensor*> out =
        ctx->forward_input_or_allocate_output(forward, 0, DataTypeToEnum<T>::value, a.shape());
    if (!out.ok()) return out.status();
    const int64_t n = a.num_elements();
    if (n == 0) return absl::OkStatus();
    const T* x = a.data<T>();
    const T* y = b.data<T>();
    T* z = (*out)->data<T>();
    return Enqueue(
        ctx, [&](GpuStream stream) { return LaunchActivationGrad<T>(op_, x, y, z, n, stream); });
  }
  bool IsExpensive() const override { return false; }  // it only enqueues

 private:
  const ActivationGradOp op_;
};

// ---------------------------------------------------------------------------------------------
// BiasAddGrad: out_backprop summed over every dimension but the channel one (the last for NHWC
// and any rank-2 input, dimension 1 for NCHW): a Sum over the axes {0, 2} of the view
// [outer, channels, inner].

template <typename T>
class BiasAddGradKernel : public OpKernel {
 public:
  BiasAddGradKernel(const KernelConstruction& c, bool nchw) : OpKernel(c), nchw_(nchw) {}

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& in = ctx->input(0);
    if (in.rank() < 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("input 0 has shape ", in.shape().ToString(), ", expected rank >= 2"));
    }
    const int channel_dim = nchw_ ? 1 : in.rank() - 1;
    const int64_t channels = in.dim(channel_dim);
    absl::StatusOr<Tensor*> out =
        ctx->allocate_output(0, DataTypeToEnum<T>::value, TensorShape{channels});
    if (!out.ok()) return out.status();
    if (channels == 0) return absl::OkStatus();
    int64_t outer = 1, inner = 1;
    for (int k = 0; k < channel_dim; ++k) outer *= in.dim(k);
    for (int k = channel_dim + 1; k < in.rank(); ++k) inner *= in.dim(k);
    // An empty input (outer or inner 0) reduces an empty extent: the launcher fills the
    // output with zeros, as the CPU kernel does.
    const GpuDims dims{outer, channels, inner};
    const int64_t axes[] = {0, 2};
    // The two-pass split's partials (reduction_ops.cc): freed when this returns, reused only
    // by work enqueued after this on the same stream. Without them the launcher reduces in
    // one pass, so a failed allocation is not an error.
    const size_t workspace_bytes = ReduceWorkspaceBytes(dims, axes, 2, sizeof(T));
    Tensor workspace;
    if (workspace_bytes > 0) {
      workspace = Tensor(ctx->device()->allocator(), DT_UINT8,
                         TensorShape({static_cast<int64_t>(workspace_bytes)}));
    }
    void* workspace_data = workspace.raw_data();
    const size_t usable_bytes = workspace_data != nullptr ? workspace_bytes : 0;
    const T* x = in.data<T>();
    T* y = (*out)->data<T>();
    return Enqueue(ctx, [&](GpuStream stream) {
      return LaunchReduce<T>(ReduceOp::kSum, x, dims, axes, 2, y, workspace_data, usable_bytes,
                             stream);
    });
  }
  bool IsExpensive() const override { return false; }

 private:
  const bool nchw_;
};

KernelOr CreateBiasAddGrad(const KernelConstruction& c) {
  std::string data_format;
  // A node built without the attr gets the op's default, as the CPU kernel does.
  if (!c.GetAttr("data_format", &data_format).ok()) data_format = "NHWC";
  if (data_format != "NHWC" && data_format != "NCHW") {
    return absl::InvalidArgumentError(
        absl::StrCat("data_format is \"", data_format, "\", expected \"NHWC\" or \"NCHW\""));
  }
  return MakeNumeric<BiasAddGradKernel>(c, data_format == "NCHW");
}

// ---------------------------------------------------------------------------------------------
// Softmax cross-entropy (float): features [batch, classes] and sparse labels [batch] (int32 or
// int64) or dense labels [batch, classes]; outputs loss [batch] and backprop [batch, classes].

absl::Status CheckFeatures(const Tensor& features) {
  if (features.rank() != 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input 0 (features) has shape ", features.shape().ToString(), ", expected rank 2"));
  }
  return absl::OkStatus();
}

class SoftmaxCrossEntropyKernel : public OpKernel {
 public:
  SoftmaxCrossEntropyKernel(const KernelConstruction& c, bool sparse)
      : OpKernel(c), sparse_(sparse) {}

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& features = ctx->input(0);
    const Tensor& labels = ctx->input(1);
    if (absl::Status s = CheckFeatures(features); !s.ok()) return s;
    const int64_t rows = features.dim(0);
    const int64_t classes = features.dim(1);
    if (sparse_) {
      if (labels.rank() != 1 || labels.dim(0) != rows) {
        return absl::InvalidArgumentError(
            absl::StrCat("input 1 (labels) has shape ", labels.shape().ToString(), ", expected [",
                         rows, "] (the batch size of features ", features.shape().ToString(), ")"));
      }
      if (labels.dtype() != DT_INT32 && labels.dtype() != DT_INT64) {
        return absl::InvalidArgumentError(absl::StrCat("input 1 (labels) has dtype ",
                                                       DataTypeString(labels.dtype()),
                                                       ", expected int32 or int64"));
      }
    } else if (labels.shape() != features.shape()) {
      return absl::InvalidArgumentError(
          absl::StrCat("input 1 (labels) has shape ", labels.shape().ToString(), ", expected ",
                       features.shape().ToString(), " (the shape of features)"));
    }
    absl::StatusOr<Tensor*> loss = ctx->allocate_output(0, DT_FLOAT, TensorShape{rows});
    if (!loss.ok()) return loss.status();
    absl::StatusOr<Tensor*> backprop = ctx->allocate_output(1, DT_FLOAT, features.shape());
    if (!backprop.ok()) return backprop.status();
    // No rows: both outputs are empty. Rows of no classes still get a loss (0 for dense labels;
    // NaN for sparse ones, whose every label is out of range), so they launch.
    if (rows == 0) return absl::OkStatus();
    const float* x = features.data<float>();
    float* l = (*loss)->data<float>();
    float* b = (*backprop)->data<float>();
    return Enqueue(ctx, [&](GpuStream stream) {
      if (!sparse_) {
        return LaunchSoftmaxCrossEntropy(x, labels.data<float>(), rows, classes, l, b, stream);
      }
      if (labels.dtype() == DT_INT32) {
        return LaunchSparseSoftmaxCrossEntropy<int32_t>(x, labels.data<int32_t>(), rows, classes, l,
                                                        b, stream);
      }
      return LaunchSparseSoftmaxCrossEntropy<int64_t>(x, labels.data<int64_t>(), rows, classes, l,
                                                      b, stream);
    });
  }
  bool IsExpensive() const override { return false; }

 private:
  const bool sparse_;
};

}  // namespace

void RegisterGpuNnGradKernels(KernelRegistry& registry) {
  const std::vector<DataType> numeric = {DT_FLOAT, DT_INT32, DT_INT64};
  const std::vector<DataType> float_only = {DT_FLOAT};

  // The CPU registers ReluGrad for integers too, the others for floats only; the GPU rows
  // follow (without double, which no GPU launcher takes).
  struct GradRow {
    const char* op;
    ActivationGradOp fn;
    bool ints;
  };
  const GradRow grad_rows[] = {
      {"ReluGrad", ActivationGradOp::kReluGrad, true},
      {"Relu6Grad", ActivationGradOp::kRelu6Grad, false},
      {"SigmoidGrad", ActivationGradOp::kSigmoidGrad, false},
      {"TanhGrad", ActivationGradOp::kTanhGrad, false},
  };
  for (const GradRow& row : grad_rows) {
    const ActivationGradOp fn = row.fn;
    registry.Register(
        {row.op, kDeviceGpu, "T", row.ints ? numeric : float_only,
         [fn](const KernelConstruction& c) { return MakeNumeric<ActivationGradKernel>(c, fn); }});
  }

  registry.Register({"BiasAddGrad", kDeviceGpu, "T", numeric, CreateBiasAddGrad});

  for (bool sparse : {true, false}) {
    registry.Register(
        {sparse ? "SparseSoftmaxCrossEntropyWithLogits" : "SoftmaxCrossEntropyWithLogits",
         kDeviceGpu, "T", float_only, [sparse](const KernelConstruction& c) -> KernelOr {
           return std::unique_ptr<OpKernel>(new SoftmaxCrossEntropyKernel(c, sparse));
         }});
  }
}

}  // namespace gpu
}  // namespace weir
