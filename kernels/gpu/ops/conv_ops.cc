// conv_ops.cc - Conv2D, DepthwiseConv2dNative, _FusedConv2D, _FusedDepthwiseConv2dNative,
// MaxPool, AvgPool and FusedBatchNorm (V1, V2, V3, inference only) on the GPU through cuDNN
// (kernels/gpu/dnn.h). Built and registered only when the toolkit has cuDNN.
//
// Float32 and data_format NHWC only: the registry rows' constraints turn NCHW nodes, fused
// activations other than Relu, Relu6, Tanh, Sigmoid and Elu, and FusedBatchNorm with
// is_training=true down, so placement runs those on the CPU. Attributes mean what they mean
// to the CPU kernels (kernels/cpu/conv_kernels.cc, pool_kernels.cc, normalization_kernels.cc,
// fused_kernels.cc): TensorFlow's SAME / VALID / EXPLICIT padding, strides and dilations in
// data_format order, the same error messages for bad attributes and shapes.
//
// One GpuDnn (handle, workspace, plans) per device, created by the first kernel that needs it
// and used under the device's launch mutex. A filter that comes straight from a Const node is
// converted from TensorFlow's HWIO to cuDNN's KRSC once, at construction, and kept on the
// device; any other filter is converted into a temporary on every call. The fused kernels run
// the convolution, then BiasAdd and the activation in place over its output.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "kernels/gpu/bias_add.h"
#include "kernels/gpu/cast_fill.h"
#include "kernels/gpu/dnn.h"
#include "kernels/gpu/elementwise.h"
#include "kernels/gpu/ops/gpu_op_util.h"
#include "kernels/window.h"

namespace weir {
namespace gpu {
namespace {

// The device's cuDNN handle and plans, with a workspace from the device's memory pool (so it
// counts against the device's limit and appears in its statistics).
struct DeviceDnnState {
  BfcAllocator* bfc = nullptr;
  void* workspace = nullptr;
  std::unique_ptr<GpuDnn> dnn;
  ~DeviceDnnState() {
    dnn.reset();
    if (workspace != nullptr) bfc->DeallocateRaw(workspace);
  }
};

absl::StatusOr<GpuDnn*> DeviceDnn(GpuDevice* device) {
  GpuStatus created;
  bool out_of_memory = false;
  DeviceDnnState* state =
      device->GetOrCreateShared<DeviceDnnState>("kernels/gpu/ops:GpuDnn", [&] {
        std::unique_ptr<DeviceDnnState> made;
        // cudnnCreate binds the handle to the current device.
        if (absl::Status s = device->Activate(); !s.ok()) {
          created = GpuStatus::Error(std::string(s.message()));
          return made;
        }
        auto state = std::make_unique<DeviceDnnState>();
        state->bfc = device->device_bfc();
        // Kernels are made outside any CUDA-graph capture (GpuDevice::BeginStep), so the pool
        // may grow here.
        state->workspace = state->bfc->AllocateRaw(GpuDnn::kDefaultWorkspaceBytes);
        if (state->workspace == nullptr) {
          out_of_memory = true;
          created = GpuStatus::Error(absl::StrCat(
              "out of memory allocating the cuDNN workspace of ", GpuDnn::kDefaultWorkspaceBytes,
              " bytes (device memory limit ", state->bfc->memory_limit(), ")"));
          return made;
        }
        created = GpuDnn::CreateBorrowing(&state->dnn, state->workspace,
                                          GpuDnn::kDefaultWorkspaceBytes);
        if (created.ok()) made = std::move(state);
        return made;
      });
  if (state == nullptr) {
    const std::string message =
        absl::StrCat(device->name(), ": cannot set up cuDNN: ", created.message());
    return out_of_memory ? absl::ResourceExhaustedError(message)
                         : absl::UnavailableError(message);
  }
  return state->dnn.get();
}

// Device memory for a kernel's own use during one call; freed when the Tensor goes, which the
// stream orders after the work enqueued with it.
absl::StatusOr<Tensor> Temporary(KernelContext* ctx, DataType dtype, const TensorShape& shape,
                                 const char* what) {
  Tensor t(ctx->device()->allocator(), dtype, shape);
  if (t.raw_data() == nullptr && t.TotalBytes() > 0) {
    return absl::ResourceExhaustedError(absl::StrCat("out of memory allocating ", t.TotalBytes(),
                                                     " bytes for ", what, " on ",
                                                     ctx->device()->name()));
  }
  return t;
}

absl::StatusOr<Tensor> Scratch(KernelContext* ctx, size_t bytes, const char* what) {
  if (bytes == 0) return Tensor();
  return Temporary(ctx, DT_UINT8, TensorShape({static_cast<int64_t>(bytes)}), what);
}

// ---- Attributes --------------------------------------------------------------------------------

// The constraint every row shares: the GPU kernels take NHWC only.
absl::Status RequireNhwc(const Node& node) {
  std::string data_format = "NHWC";
  node.GetAttr("data_format", &data_format).IgnoreError();
  if (data_format != "NHWC") {
    return absl::InvalidArgumentError(
        absl::StrCat("data_format ", data_format, ": the GPU kernel takes NHWC only"));
  }
  return absl::OkStatus();
}

using conv_internal::ComputeSpatial;
using conv_internal::ReadWindowAttrs;
using conv_internal::SpatialGeometry;
using conv_internal::WindowAttrs;

// The CPU kernels' checks (kernels/window.h), plus the one cuDNN's pooling needs: a window over
// one image and one channel.
absl::Status CheckGpuWindowAttrs(const WindowAttrs& attrs, bool pooling) {
  if (auto s = conv_internal::CheckWindowAttrs(attrs, pooling); !s.ok()) return s;
  if (pooling && (attrs.ksize[0] != 1 || attrs.strides[0] != 1 || attrs.ksize[3] != 1 ||
                  attrs.strides[3] != 1)) {
    return absl::UnimplementedError(
        absl::StrCat("pooling over the batch or depth dimension is not supported (ksize [",
                     absl::StrJoin(attrs.ksize, ","), "], strides [",
                     absl::StrJoin(attrs.strides, ","), "])"));
  }
  return absl::OkStatus();
}

// ---- Convolutions
// --------------------------------------------------------------------------------

// What a fused convolution does after the convolution: BiasAdd, then maybe an activation.
struct FusedEpilogue {
  bool fused = false;  // _Fused*: a bias (input 2) follows
  bool has_activation = false;
  UnaryOp activation = UnaryOp::kRelu;
};

absl::StatusOr<FusedEpilogue> ParseFusedOps(const Node& node) {
  std::vector<std::string> fused_ops;
  if (auto s = node.GetAttr("fused_ops", &fused_ops); !s.ok()) return s;
  const std::string listed = absl::StrCat("[", absl::StrJoin(fused_ops, ","), "]");
  if (fused_ops.empty() || fused_ops[0] != "BiasAdd" || fused_ops.size() > 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "fused_ops is ", listed,
        ": the GPU kernel fuses BiasAdd, optionally followed by one of Relu, Relu6, Tanh, "
        "Sigmoid, Elu"));
  }
  int64_t num_args = 0;
  if (auto s = node.GetAttr("num_args", &num_args); !s.ok()) return s;
  if (num_args != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("num_args is ", num_args, ", expected 1 for fused_ops ", listed));
  }
  int64_t num_host_args = 0;
  node.GetAttr("num_host_args", &num_host_args).IgnoreError();
  if (num_host_args != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("num_host_args is ", num_host_args, ", expected 0"));
  }
  if (node.num_inputs() < 3 || node.input_type(2) != DT_FLOAT) {
    return absl::InvalidArgumentError("args has no float32 bias, expected TArgs [float]");
  }
  FusedEpilogue e;
  e.fused = true;
  if (fused_ops.size() == 1) return e;
  e.has_activation = true;
  const std::string& name = fused_ops[1];
  if (name == "Relu") {
    e.activation = UnaryOp::kRelu;
  } else if (name == "Relu6") {
    e.activation = UnaryOp::kRelu6;
  } else if (name == "Tanh") {
    e.activation = UnaryOp::kTanh;
  } else if (name == "Sigmoid") {
    e.activation = UnaryOp::kSigmoid;
  } else if (name == "Elu") {
    e.activation = UnaryOp::kElu;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("fused activation ", name,
                     " has no GPU kernel (the GPU fuses Relu, Relu6, Tanh, Sigmoid, Elu)"));
  }
  return e;
}

// Conv2D (depthwise false) and DepthwiseConv2dNative (depthwise true), and their _Fused forms.
class ConvKernel : public OpKernel {
 public:
  static KernelFactory Factory(bool depthwise, bool fused) {
    return [depthwise,
            fused](const KernelConstruction& c) -> absl::StatusOr<std::unique_ptr<OpKernel>> {
      FusedEpilogue epilogue;
      if (fused) {
        absl::StatusOr<FusedEpilogue> parsed = ParseFusedOps(c.node());
        if (!parsed.ok()) return parsed.status();
        epilogue = *parsed;
      }
      absl::StatusOr<GpuDnn*> dnn = DeviceDnn(GpuDeviceOf(c));
      if (!dnn.ok()) return dnn.status();
      auto kernel = std::unique_ptr<ConvKernel>(new ConvKernel(c, *dnn, depthwise, epilogue));
      if (auto s = kernel->PrepareConstFilter(c); !s.ok()) return s;
      return std::unique_ptr<OpKernel>(std::move(kernel));
    };
  }

  // The rows' constraint: NHWC, an HWIO filter, and for the fused ops a fusion the GPU kernel
  // has.
  static absl::Status Supports(const Node& node, bool fused) {
    if (auto s = RequireNhwc(node); !s.ok()) return s;
    // _FusedConv2D may name another filter layout (OIHW, for int8 models).
    std::string filter_format = "HWIO";
    node.GetAttr("filter_format", &filter_format).IgnoreError();
    if (filter_format != "HWIO") {
      return absl::InvalidArgumentError(
          absl::StrCat("filter_format ", filter_format, ": the GPU kernel takes HWIO only"));
    }
    if (fused) return ParseFusedOps(node).status();
    return absl::OkStatus();
  }

  absl::Status Compute(KernelContext* ctx) override {
    if (auto s = CheckGpuWindowAttrs(attrs_, false); !s.ok()) return s;
    if (epilogue_.fused && ctx->num_inputs() != 3) {
      return absl::InvalidArgumentError(
          absl::StrCat("has ", ctx->num_inputs(), " inputs, expected 3 (input, filter, bias)"));
    }
    const Tensor& input = ctx->input(0);
    const Tensor& filter = ctx->input(1);
    if (input.rank() != 4) {
      return absl::InvalidArgumentError(
          absl::StrCat("input 0 has shape ", input.shape().ToString(), ", expected rank 4"));
    }
    if (filter.rank() != 4) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input 1 (filter) has shape ", filter.shape().ToString(), ", expected rank 4"));
    }
    if (filter.num_elements() == 0) {
      return absl::InvalidArgumentError(absl::StrCat("input 1 (filter) has shape ",
                                                     filter.shape().ToString(),
                                                     ", expected no zero dimensions"));
    }
    ConvParams p;
    p.batch = input.dim(0);
    p.in_h = input.dim(1);
    p.in_w = input.dim(2);
    p.in_c = input.dim(3);
    p.filter_h = filter.dim(0);
    p.filter_w = filter.dim(1);
    const int64_t f_in = filter.dim(2), f_out = filter.dim(3);
    if (auto s = Channels(input, filter, &p); !s.ok()) return s;
    if (epilogue_.fused) {
      const Tensor& bias = ctx->input(2);
      if (bias.rank() != 1 || bias.dim(0) != p.out_c) {
        return absl::InvalidArgumentError(absl::StrCat(
            "input 2 (bias) has shape ", bias.shape().ToString(), ", expected [", p.out_c, "]"));
      }
    }
    absl::StatusOr<SpatialGeometry> gh = ComputeSpatial(attrs_, 1, p.in_h, p.filter_h, attrs_.dilations[1]);
    if (!gh.ok()) return gh.status();
    absl::StatusOr<SpatialGeometry> gw = ComputeSpatial(attrs_, 2, p.in_w, p.filter_w, attrs_.dilations[2]);
    if (!gw.ok()) return gw.status();
    p.stride_h = attrs_.strides[1];
    p.stride_w = attrs_.strides[2];
    p.dilation_h = attrs_.dilations[1];
    p.dilation_w = attrs_.dilations[2];
    p.pad_top = gh->pad_before;
    p.pad_bottom = gh->pad_after;
    p.pad_left = gw->pad_before;
    p.pad_right = gw->pad_after;
    p.out_h = gh->out;
    p.out_w = gw->out;
    p.allow_tf32 = allow_tf32_;
    absl::StatusOr<Tensor*> out =
        ctx->allocate_output(0, DT_FLOAT, TensorShape({p.batch, p.out_h, p.out_w, p.out_c}));
    if (!out.ok()) return out.status();
    if ((*out)->num_elements() == 0) return absl::OkStatus();

    // The filter in KRSC: the one made at construction when this filter is that Const, else a
    // converted copy for this call.
    const bool use_const = const_krsc_.dtype() == DT_FLOAT && const_shape_ == filter.shape();
    Tensor krsc;
    if (!use_const) {
      absl::StatusOr<Tensor> t = Temporary(ctx, DT_FLOAT, filter.shape(), "the KRSC filter");
      if (!t.ok()) return t.status();
      krsc = *std::move(t);
    }
    absl::StatusOr<Tensor> scratch =
        Scratch(ctx, GpuDnn::ConvScratchBytes(p), "the padded convolution input");
    if (!scratch.ok()) return scratch.status();

    LaunchScope scope(ctx);
    if (auto s = scope.Activate(); !s.ok()) return s;
    const float* filter_krsc = use_const ? const_krsc_.data<float>() : krsc.data<float>();
    if (!use_const) {
      // A depthwise [kh, kw, C, M] filter is the HWIO filter [kh, kw, 1, C * M].
      const int64_t hwio_in = depthwise_ ? 1 : f_in;
      const int64_t hwio_out = depthwise_ ? f_in * f_out : f_out;
      if (auto s =
              ToStatus(LaunchFilterHwioToKrsc(filter.data<float>(), p.filter_h, p.filter_w, hwio_in,
                                              hwio_out, krsc.data<float>(), scope.stream()));
          !s.ok()) {
        return s;
      }
    }
    float* y = (*out)->data<float>();
    if (auto s = ToStatus(dnn_->Conv2D(p, input.data<float>(), filter_krsc, y, scratch->raw_data(),
                                       GpuDnn::ConvScratchBytes(p), scope.stream()));
        !s.ok() || !epilogue_.fused) {
      return s;
    }
    if (auto s =
            ToStatus(LaunchBiasAdd<float>(y, ctx->input(2).data<float>(), y,
                                          p.batch * p.out_h * p.out_w, p.out_c, 1, scope.stream()));
        !s.ok() || !epilogue_.has_activation) {
      return s;
    }
    return ToStatus(
        LaunchUnary<float>(epilogue_.activation, y, y, (*out)->num_elements(), scope.stream()));
  }
  bool IsExpensive() const override { return false; }

 private:
  ConvKernel(const KernelConstruction& c, GpuDnn* dnn, bool depthwise, FusedEpilogue epilogue)
      : OpKernel(c),
        dnn_(dnn),
        attrs_(ReadWindowAttrs(c)),
        depthwise_(depthwise),
        epilogue_(epilogue),
        allow_tf32_(GpuDeviceOf(c)->options().allow_tf32) {}

  // Groups and output channels, with the CPU kernels' checks and messages.
  absl::Status Channels(const Tensor& input, const Tensor& filter, ConvParams* p) const {
    const int64_t in_c = p->in_c, f_in = filter.dim(2), f_out = filter.dim(3);
    if (depthwise_) {
      if (f_in != in_c) {
        return absl::InvalidArgumentError(
            absl::StrCat("input 1 (filter) has shape ", filter.shape().ToString(),
                         ", expected dimension 2 to be ", in_c, " (the depth of input 0)"));
      }
      p->groups = in_c;
      p->out_c = in_c * f_out;
      return absl::OkStatus();
    }
    if (in_c % f_in != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("input 1 (filter) has shape ", filter.shape().ToString(),
                       ", expected dimension 2 to divide ", in_c, " (the depth of input 0)"));
    }
    p->groups = in_c / f_in;
    if (p->groups == 0) {
      return absl::InvalidArgumentError(absl::StrCat("input 0 has shape ", input.shape().ToString(),
                                                     ", expected a depth of at least ", f_in,
                                                     " (dimension 2 of the filter)"));
    }
    if (f_out % p->groups != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("input 1 (filter) has shape ", filter.shape().ToString(),
                       ", expected dimension 3 to be a multiple of the number of groups ",
                       p->groups));  // the CPU kernel's words (onednn_conv.cc)
    }
    p->out_c = f_out;
    return absl::OkStatus();
  }

  // A filter from a Const node: converted to KRSC on the host and uploaded once. Anything
  // else (a variable, a computed filter, a Const behind a _Recv) is converted per call.
  absl::Status PrepareConstFilter(const KernelConstruction& c) {
    absl::StatusOr<Tensor> host = ConstInputValue(c.node(), 1);
    if (!host.ok() || host->dtype() != DT_FLOAT || host->rank() != 4 || host->num_elements() == 0) {
      return absl::OkStatus();
    }
    const int64_t kh = host->dim(0), kw = host->dim(1), f_in = host->dim(2), f_out = host->dim(3);
    Tensor converted(DT_FLOAT, host->shape());
    FilterHwioToKrsc(host->data<float>(), kh, kw, depthwise_ ? 1 : f_in,
                     depthwise_ ? f_in * f_out : f_out, converted.data<float>());
    GpuDevice* device = GpuDeviceOf(c);
    Tensor on_device(device->allocator(), DT_FLOAT, host->shape());
    if (on_device.raw_data() == nullptr) {
      return OutOfMemoryError(device->name(), converted.TotalBytes(), c.name(), c.op(),
                              device->memory_stats());
    }
    {
      absl::MutexLock lock(&device->launch_mutex());
      if (auto s = device->CopyHostToDevice(converted.raw_data(), on_device.raw_data(),
                                            converted.TotalBytes());
          !s.ok()) {
        return s;
      }
    }
    // `converted` goes when this returns: the copy must have read it.
    if (auto s = device->SynchronizeStream(GpuDevice::Stream::kCompute); !s.ok()) return s;
    if (auto s = device->SynchronizeStream(GpuDevice::Stream::kHostToDevice); !s.ok()) return s;
    const_krsc_ = std::move(on_device);
    const_shape_ = host->shape();
    return absl::OkStatus();
  }

  GpuDnn* dnn_;
  const WindowAttrs attrs_;
  const bool depthwise_;
  const FusedEpilogue epilogue_;
  const bool allow_tf32_;
  Tensor const_krsc_;  // the Const filter in KRSC on the device (empty without one)
  TensorShape const_shape_;
};

// ---- Pooling ---------------------------------------------------------------------------------

class PoolKernel : public OpKernel {
 public:
  static KernelFactory Factory(PoolMode mode) {
    return [mode](const KernelConstruction& c) -> absl::StatusOr<std::unique_ptr<OpKernel>> {
      absl::StatusOr<GpuDnn*> dnn = DeviceDnn(GpuDeviceOf(c));
      if (!dnn.ok()) return dnn.status();
      return std::unique_ptr<OpKernel>(new PoolKernel(c, *dnn, mode));
    };
  }

  absl::Status Compute(KernelContext* ctx) override {
    if (auto s = CheckGpuWindowAttrs(attrs_, true); !s.ok()) return s;
    const Tensor& input = ctx->input(0);
    if (input.rank() != 4) {
      return absl::InvalidArgumentError(
          absl::StrCat("input 0 has shape ", input.shape().ToString(), ", expected rank 4"));
    }
    PoolParams p;
    p.mode = mode_;
    p.batch = input.dim(0);
    p.in_h = input.dim(1);
    p.in_w = input.dim(2);
    p.channels = input.dim(3);
    p.window_h = attrs_.ksize[1];
    p.window_w = attrs_.ksize[2];
    p.stride_h = attrs_.strides[1];
    p.stride_w = attrs_.strides[2];
    absl::StatusOr<SpatialGeometry> gh = ComputeSpatial(attrs_, 1, p.in_h, p.window_h, 1);
    if (!gh.ok()) return gh.status();
    absl::StatusOr<SpatialGeometry> gw = ComputeSpatial(attrs_, 2, p.in_w, p.window_w, 1);
    if (!gw.ok()) return gw.status();
    if (gh->pad_before >= p.window_h || gh->pad_after >= p.window_h || gw->pad_before >= p.window_w ||
        gw->pad_after >= p.window_w) {
      return absl::InvalidArgumentError(absl::StrCat(
          "explicit_paddings is [", absl::StrJoin(attrs_.explicit_paddings, ","),
          "], expected paddings smaller than the window size [", p.window_h, ",", p.window_w, "]"));
    }
    p.pad_top = gh->pad_before;
    p.pad_bottom = gh->pad_after;
    p.pad_left = gw->pad_before;
    p.pad_right = gw->pad_after;
    p.out_h = gh->out;
    p.out_w = gw->out;
    absl::StatusOr<Tensor*> out =
        ctx->allocate_output(0, DT_FLOAT, TensorShape({p.batch, p.out_h, p.out_w, p.channels}));
    if (!out.ok()) return out.status();
    if ((*out)->num_elements() == 0) return absl::OkStatus();
    absl::StatusOr<Tensor> scratch =
        Scratch(ctx, GpuDnn::PoolScratchBytes(p), "the padded pooling input");
    if (!scratch.ok()) return scratch.status();
    LaunchScope scope(ctx);
    if (auto s = scope.Activate(); !s.ok()) return s;
    return ToStatus(dnn_->Pool(p, input.data<float>(), (*out)->data<float>(), scratch->raw_data(),
                               GpuDnn::PoolScratchBytes(p), scope.stream()));
  }
  bool IsExpensive() const override { return false; }

 private:
  PoolKernel(const KernelConstruction& c, GpuDnn* dnn, PoolMode mode)
      : OpKernel(c), dnn_(dnn), attrs_(ReadWindowAttrs(c)), mode_(mode) {}

  GpuDnn* dnn_;
  const WindowAttrs attrs_;
  const PoolMode mode_;
};

// ---- Batch norm --------------------------------------------------------------------------------

// FusedBatchNorm, FusedBatchNormV2, FusedBatchNormV3 with is_training=false: y from cuDNN, the
// other outputs as the CPU kernel gives them (batch_mean and reserve_space_1 are the mean
// input, batch_variance and reserve_space_2 the variance input; V3's reserve_space_3 a scalar
// 0; an empty x gives NaN batch statistics).
class FusedBatchNormKernel : public OpKernel {
 public:
  static absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelConstruction& c) {
    absl::StatusOr<GpuDnn*> dnn = DeviceDnn(GpuDeviceOf(c));
    if (!dnn.ok()) return dnn.status();
    return std::unique_ptr<OpKernel>(new FusedBatchNormKernel(c, *dnn));
  }

  // The rows' constraint: inference in NHWC with float statistics. Training computes batch
  // statistics, which only the CPU kernel would refuse with a better message.
  static absl::Status Supports(const Node& node) {
    bool is_training = true;
    node.GetAttr("is_training", &is_training).IgnoreError();
    if (is_training) {
      return absl::InvalidArgumentError(
          "is_training=true: the GPU kernel does inference only (is_training=false)");
    }
    if (auto s = RequireNhwc(node); !s.ok()) return s;
    DataType u = DT_FLOAT;
    node.GetAttr("U", &u).IgnoreError();
    if (u != DT_FLOAT) {
      return absl::InvalidArgumentError(absl::StrCat(
          "U is ", DataTypeString(u), ": the GPU kernel takes float scale and statistics"));
    }
    return absl::OkStatus();
  }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    if (x.rank() != 4) {
      return absl::InvalidArgumentError(absl::StrCat("input 0 (x) has shape ", x.shape().ToString(),
                                                     ", expected rank 4 for data_format NHWC"));
    }
    const int64_t channels = x.dim(3);
    static const char* const kNames[] = {"x", "scale", "offset", "mean", "variance"};
    for (int i = 1; i < 5; ++i) {
      const Tensor& v = ctx->input(i);
      if (v.rank() != 1 || v.dim(0) != channels) {
        return absl::InvalidArgumentError(absl::StrCat(
            "input ", i, " (", kNames[i], ") has shape ", v.shape().ToString(), ", expected [",
            channels, "] (the channel dimension of x of shape ", x.shape().ToString(), ")"));
      }
    }
    absl::StatusOr<Tensor*> y = ctx->allocate_output(0, DT_FLOAT, x.shape());
    if (!y.ok()) return y.status();
    const bool empty = x.num_elements() == 0;
    // The statistics pass through (the outputs share the inputs' buffers, nothing is copied),
    // except for an empty x, whose batch_mean and batch_variance are NaN as TensorFlow reports.
    std::vector<Tensor*> nan_outputs;
    for (int i = 1; i < 5; ++i) {
      if (empty && i <= 2) {
        absl::StatusOr<Tensor*> out = ctx->allocate_output(i, DT_FLOAT, TensorShape{channels});
        if (!out.ok()) return out.status();
        nan_outputs.push_back(*out);
      } else {
        ctx->set_output(i, ctx->input(i % 2 == 1 ? 3 : 4));
      }
    }
    Tensor* reserve_3 = nullptr;
    if (ctx->num_outputs() > 5) {
      absl::StatusOr<Tensor*> out = ctx->allocate_output(5, DT_FLOAT, TensorShape{});
      if (!out.ok()) return out.status();
      reserve_3 = *out;
    }

    LaunchScope scope(ctx);
    if (auto s = scope.Activate(); !s.ok()) return s;
    for (Tensor* t : nan_outputs) {
      if (auto s =
              ToStatus(LaunchFill<float>(t->data<float>(), t->num_elements(),
                                         std::numeric_limits<float>::quiet_NaN(), scope.stream()));
          !s.ok()) {
        return s;
      }
    }
    if (reserve_3 != nullptr) {
      if (auto s = ToStatus(LaunchFill<float>(reserve_3->data<float>(), 1, 0.0f, scope.stream()));
          !s.ok()) {
        return s;
      }
    }
    if (empty) return absl::OkStatus();
    BatchNormParams p;
    p.batch = x.dim(0);
    p.h = x.dim(1);
    p.w = x.dim(2);
    p.channels = channels;
    p.epsilon = epsilon_;
    return ToStatus(
        dnn_->BatchNormInference(p, x.data<float>(), ctx->input(1).data<float>(),
                                 ctx->input(2).data<float>(), ctx->input(3).data<float>(),
                                 ctx->input(4).data<float>(), (*y)->data<float>(), scope.stream()));
  }
  bool IsExpensive() const override { return false; }

 private:
  FusedBatchNormKernel(const KernelConstruction& c, GpuDnn* dnn) : OpKernel(c), dnn_(dnn) {
    c.GetAttr("epsilon", &epsilon_).IgnoreError();
  }

  GpuDnn* dnn_;
  float epsilon_ = 1e-4f;  // the CPU kernel's default when the attr is missing
};

}  // namespace

void RegisterGpuConvKernels(KernelRegistry& registry) {
  struct ConvRow {
    const char* op;
    bool depthwise;
    bool fused;
  };
  for (const ConvRow& row :
       {ConvRow{"Conv2D", false, false}, ConvRow{"DepthwiseConv2dNative", true, false},
        ConvRow{"_FusedConv2D", false, true}, ConvRow{"_FusedDepthwiseConv2dNative", true, true}}) {
    KernelDef def{
        row.op, kDeviceGpu, "T", {DT_FLOAT}, ConvKernel::Factory(row.depthwise, row.fused)};
    const bool fused = row.fused;
    def.constraint = [fused](const Node& node) { return ConvKernel::Supports(node, fused); };
    registry.Register(std::move(def));
  }
  for (const auto& [op, mode] :
       {std::make_pair("MaxPool", PoolMode::kMax), std::make_pair("AvgPool", PoolMode::kAverage)}) {
    KernelDef def{op, kDeviceGpu, "T", {DT_FLOAT}, PoolKernel::Factory(mode)};
    def.constraint = RequireNhwc;
    registry.Register(std::move(def));
  }
  for (const char* op : {"FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3"}) {
    KernelDef def{op, kDeviceGpu, "T", {DT_FLOAT}, FusedBatchNormKernel::Create};
    def.constraint = FusedBatchNormKernel::Supports;
    registry.Register(std::move(def));
  }
}

}  // namespace gpu
}  // namespace weir
