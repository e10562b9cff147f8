// matmul_ops.cc - MatMul, BatchMatMul(V2) and _FusedMatMul on the GPU: cuBLAS for the plain
// products, cuBLASLt with a bias (+ReLU) epilogue for the fused one.
//
// One GpuBlas (kernels/gpu/gemm.h: the handles, cuBLASLt's workspace and its cached plans) per
// device, created by the first kernel that needs it and used under the device's launch mutex,
// since cuBLAS handles must not be used by two threads at once. TF32 follows
// GpuOptions::allow_tf32 (off by default).
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "kernels/gpu/cast_fill.h"
#include "kernels/gpu/elementwise.h"
#include "kernels/gpu/gemm.h"
#include "kernels/gpu/ops/gpu_op_util.h"

namespace weir {
namespace gpu {
namespace {

absl::StatusOr<GpuBlas*> DeviceBlas(GpuDevice* device) {
  // cublasLtCreate acts on the calling thread's current device, which a compiling thread has
  // not necessarily set to this one.
  if (auto s = device->Activate(); !s.ok()) return s;
  GpuStatus created;
  GpuBlas* blas = device->GetOrCreateShared<GpuBlas>("kernels/gpu/ops:GpuBlas", [&] {
    std::unique_ptr<GpuBlas> made;
    // The device's cuBLAS handle and workspace (from its memory pool, inside its limit);
    // every use is under the device's launch mutex, on its compute stream.
    // Without one (GpuOptions::cublas_workspace_bytes = 0), its own handles and workspace:
    // cuBLAS must never allocate by itself during a CUDA-graph capture.
    created = device->cublas_workspace() != nullptr
                  ? GpuBlas::CreateBorrowing(&made, device->cublas(), device->cublas_workspace(),
                                             device->options().cublas_workspace_bytes)
                  : GpuBlas::Create(&made);
    return made;
  });
  if (blas == nullptr) {
    return absl::UnavailableError(absl::StrCat(device->name(), ": cannot set up cuBLAS: ",
                                               created.message()));
  }
  return blas;
}

// MatMul: [m, k] x [k, n] with optional transposes.
class MatMulKernel : public OpKernel {
 public:
  static absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelConstruction& c) {
    absl::StatusOr<GpuBlas*> blas = DeviceBlas(GpuDeviceOf(c));
    if (!blas.ok()) return blas.status();
    return std::unique_ptr<OpKernel>(new MatMulKernel(c, *blas));
  }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& a = ctx->input(0);
    const Tensor& b = ctx->input(1);
    GemmParams params;
    if (auto s = Dims(a, b, &params); !s.ok()) return s;
    absl::StatusOr<Tensor*> out =
        ctx->allocate_output(0, DT_FLOAT, TensorShape({params.m, params.n}));
    if (!out.ok()) return out.status();
    if ((*out)->num_elements() == 0) return absl::OkStatus();
    LaunchScope scope(ctx);
    if (auto s = scope.Activate(); !s.ok()) return s;
    if (params.k == 0) {
      return ToStatus(LaunchFill<float>((*out)->data<float>(), (*out)->num_elements(), 0.0f,
                                        scope.stream()));
    }
    return Launch(params, a.data<float>(), b.data<float>(), ctx, (*out)->data<float>(),
                  scope.stream());
  }
  bool IsExpensive() const override { return false; }

 protected:
  MatMulKernel(const KernelConstruction& c, GpuBlas* blas) : OpKernel(c), blas_(blas) {
    c.GetAttr("transpose_a", &transpose_a_).IgnoreError();
    c.GetAttr("transpose_b", &transpose_b_).IgnoreError();
    allow_tf32_ = GpuDeviceOf(c)->options().allow_tf32;
  }

  absl::Status Dims(const Tensor& a, const Tensor& b, GemmParams* params) const {
    if (a.rank() != 2 || b.rank() != 2) {
      return absl::InvalidArgumentError(absl::StrCat("inputs have shapes ", a.shape().ToString(),
                                                     " and ", b.shape().ToString(),
                                                     ", expected two matrices"));
    }
    const int64_t m = transpose_a_ ? a.dim(1) : a.dim(0);
    const int64_t k = transpose_a_ ? a.dim(0) : a.dim(1);
    const int64_t kb = transpose_b_ ? b.dim(1) : b.dim(0);
    const int64_t n = transpose_b_ ? b.dim(0) : b.dim(1);
    if (k != kb) {
      return absl::InvalidArgumentError(absl::StrCat(
          "inner dimensions differ: input 0 ", a.shape().ToString(),
          transpose_a_ ? " (transposed)" : "", " gives ", k, ", input 1 ", b.shape().ToString(),
          transpose_b_ ? " (transposed)" : "", " gives ", kb));
    }
    params->m = m;
    params->n = n;
    params->k = k;
    params->transpose_a = transpose_a_;
    params->transpose_b = transpose_b_;
    params->allow_tf32 = allow_tf32_;
    return absl::OkStatus();
  }

  virtual absl::Status Launch(const GemmParams& params, const float* a, const float* b,
                              KernelContext* ctx, float* out, GpuStream stream) {
    (void)ctx;
    return ToStatus(blas_->Gemm(params, a, b, out, stream));
  }

  GpuBlas* blas_;
  bool transpose_a_ = false;
  bool transpose_b_ = false;
  bool allow_tf32_ = false;
};

// _FusedMatMul: MatMul + BiasAdd [+ activation]. Bias and bias+Relu run as one cuBLASLt
// matmul; other activations run in place after it.
class FusedMatMulKernel : public MatMulKernel {
 public:
  static absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelConstruction& c) {
    absl::StatusOr<GpuBlas*> blas = DeviceBlas(GpuDeviceOf(c));
    if (!blas.ok()) return blas.status();
    std::vector<std::string> fused_ops;
    if (auto s = c.GetAttr("fused_ops", &fused_ops); !s.ok()) return s;
    absl::StatusOr<Activation> activation = ParseFusedOps(fused_ops);
    if (!activation.ok()) return activation.status();
    return std::unique_ptr<OpKernel>(new FusedMatMulKernel(c, *blas, *activation));
  }

  // What the registry accepts: the GPU kernel fuses BiasAdd and these activations.
  static absl::Status Supports(const Node& node) {
    std::vector<std::string> fused_ops;
    if (auto s = node.GetAttr("fused_ops", &fused_ops); !s.ok()) return s;
    return ParseFusedOps(fused_ops).status();
  }

  absl::Status Compute(KernelContext* ctx) override {
    if (ctx->num_inputs() != 3) {
      return absl::InvalidArgumentError(
          absl::StrCat("has ", ctx->num_inputs(), " inputs, expected 3 (a, b, bias)"));
    }
    return MatMulKernel::Compute(ctx);
  }

 private:
  struct Activation {
    bool none = true;
    bool relu = false;
    UnaryOp op = UnaryOp::kRelu;
  };

  static absl::StatusOr<Activation> ParseFusedOps(const std::vector<std::string>& fused_ops) {
    Activation act;
    if (fused_ops.empty() || fused_ops[0] != "BiasAdd" || fused_ops.size() > 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          "fused_ops [", absl::StrJoin(fused_ops, ", "),
          "]: the GPU kernel fuses BiasAdd, optionally followed by one of Relu, Relu6, Tanh, "
          "Sigmoid, Elu"));
    }
    if (fused_ops.size() == 1) return act;
    const std::string& name = fused_ops[1];
    act.none = false;
    if (name == "Relu") {
      act.relu = true;
    } else if (name == "Relu6") {
      act.op = UnaryOp::kRelu6;
    } else if (name == "Tanh") {
      act.op = UnaryOp::kTanh;
    } else if (name == "Sigmoid") {
      act.op = UnaryOp::kSigmoid;
    } else if (name == "Elu") {
      act.op = UnaryOp::kElu;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "fused activation ", name,
          " has no GPU kernel (the GPU fuses Relu, Relu6, Tanh, Sigmoid, Elu)"));
    }
    return act;
  }

  FusedMatMulKernel(const KernelConstruction& c, GpuBlas* blas, Activation activation)
      : MatMulKernel(c, blas), activation_(activation) {}

  absl::Status Launch(const GemmParams& params, const float* a, const float* b,
                      KernelContext* ctx, float* out, GpuStream stream) override {
    const Tensor& bias = ctx->input(2);
    if (bias.rank() != 1 || bias.dim(0) != params.n) {
      return absl::InvalidArgumentError(absl::StrCat("bias (input 2) has shape ",
                                                     bias.shape().ToString(), ", expected [",
                                                     params.n, "]"));
    }
    const GemmEpilogue epilogue = activation_.relu ? GemmEpilogue::kBiasRelu : GemmEpilogue::kBias;
    GpuStatus s = blas_->FusedGemm(params, a, b, bias.data<float>(), epilogue, out, stream);
    if (!s.ok() || activation_.none || activation_.relu) return ToStatus(s);
    return ToStatus(LaunchUnary<float>(activation_.op, out, out, params.m * params.n, stream));
  }

  Activation activation_;
};

// BatchMatMul / BatchMatMulV2: [..., m, k] x [..., k, n] with adj_x / adj_y (transposes for
// real types). V2 broadcasts the batch dimensions; the GEMM's strided batch covers operands
// whose batch dimensions are equal, and an operand whose batch is a single matrix (stride 0).
class BatchMatMulKernel : public OpKernel {
 public:
  static absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelConstruction& c) {
    absl::StatusOr<GpuBlas*> blas = DeviceBlas(GpuDeviceOf(c));
    if (!blas.ok()) return blas.status();
    return std::unique_ptr<OpKernel>(new BatchMatMulKernel(c, *blas));
  }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    const Tensor& y = ctx->input(1);
    if (x.rank() < 2 || y.rank() < 2) {
      return absl::InvalidArgumentError(absl::StrCat("inputs have shapes ", x.shape().ToString(),
                                                     " and ", y.shape().ToString(),
                                                     ", expected rank >= 2"));
    }
    const int64_t m = adj_x_ ? x.dim(x.rank() - 1) : x.dim(x.rank() - 2);
    const int64_t k = adj_x_ ? x.dim(x.rank() - 2) : x.dim(x.rank() - 1);
    const int64_t ky = adj_y_ ? y.dim(y.rank() - 1) : y.dim(y.rank() - 2);
    const int64_t n = adj_y_ ? y.dim(y.rank() - 2) : y.dim(y.rank() - 1);
    if (k != ky) {
      return absl::InvalidArgumentError(absl::StrCat(
          "inner dimensions differ: input 0 ", x.shape().ToString(), " gives ", k, ", input 1 ",
          y.shape().ToString(), " gives ", ky));
    }
    // Batch dimensions, right-aligned and broadcast.
    const int batch_rank = std::max(x.rank(), y.rank()) - 2;
    std::vector<int64_t> out_dims;
    int64_t x_batch = 1, y_batch = 1, batch = 1;
    for (int d = 0; d < batch_rank; ++d) {
      const int xd = d - (batch_rank - (x.rank() - 2));
      const int yd = d - (batch_rank - (y.rank() - 2));
      const int64_t xs = xd >= 0 ? x.dim(xd) : 1;
      const int64_t ys = yd >= 0 ? y.dim(yd) : 1;
      if (xs != ys && xs != 1 && ys != 1) {
        return absl::InvalidArgumentError(absl::StrCat(
            "batch dimensions of ", x.shape().ToString(), " and ", y.shape().ToString(),
            " do not broadcast"));
      }
      if (!v2_ && xs != ys) {
        return absl::InvalidArgumentError(absl::StrCat(
            "BatchMatMul needs equal batch dimensions, found ", x.shape().ToString(), " and ",
            y.shape().ToString(), " (BatchMatMulV2 broadcasts)"));
      }
      out_dims.push_back(std::max(xs, ys));
      x_batch *= xs;
      y_batch *= ys;
      batch *= std::max(xs, ys);
    }
    // The strided batch GEMM handles equal batches and a single broadcast matrix; a partial
    // broadcast ([2,1] against [1,3]) would need an index map.
    if ((x_batch != batch && x_batch != 1) || (y_batch != batch && y_batch != 1)) {
      return absl::UnimplementedError(absl::StrCat(
          "the GPU BatchMatMulV2 broadcasts only a whole operand; ", x.shape().ToString(),
          " and ", y.shape().ToString(), " broadcast batch dimensions partially"));
    }
    out_dims.push_back(m);
    out_dims.push_back(n);
    absl::StatusOr<Tensor*> out = ctx->allocate_output(0, DT_FLOAT, TensorShape(out_dims));
    if (!out.ok()) return out.status();
    if ((*out)->num_elements() == 0) return absl::OkStatus();
    LaunchScope scope(ctx);
    if (auto s = scope.Activate(); !s.ok()) return s;
    if (k == 0) {
      return ToStatus(LaunchFill<float>((*out)->data<float>(), (*out)->num_elements(), 0.0f,
                                        scope.stream()));
    }
    GemmParams params;
    params.m = m;
    params.n = n;
    params.k = k;
    params.transpose_a = adj_x_;
    params.transpose_b = adj_y_;
    params.batch = batch;
    params.stride_a = x_batch == 1 && batch > 1 ? 0 : m * k;
    params.stride_b = y_batch == 1 && batch > 1 ? 0 : k * n;
    params.stride_c = m * n;
    params.allow_tf32 = allow_tf32_;
    return ToStatus(blas_->Gemm(params, x.data<float>(), y.data<float>(), (*out)->data<float>(),
                                scope.stream()));
  }
  bool IsExpensive() const override { return false; }

 private:
  BatchMatMulKernel(const KernelConstruction& c, GpuBlas* blas)
      : OpKernel(c), blas_(blas), v2_(c.op() != "BatchMatMul") {
    c.GetAttr("adj_x", &adj_x_).IgnoreError();
    c.GetAttr("adj_y", &adj_y_).IgnoreError();
    allow_tf32_ = GpuDeviceOf(c)->options().allow_tf32;
  }

  GpuBlas* blas_;
  bool v2_;
  bool adj_x_ = false;
  bool adj_y_ = false;
  bool allow_tf32_ = false;
};

}  // namespace

void RegisterGpuMatMulKernels(KernelRegistry& registry) {
  registry.Register({"MatMul", kDeviceGpu, "T", {DT_FLOAT}, MatMulKernel::Create});
  KernelDef fused{"_FusedMatMul", kDeviceGpu, "T", {DT_FLOAT}, FusedMatMulKernel::Create};
  fused.constraint = FusedMatMulKernel::Supports;
  registry.Register(std::move(fused));
  for (const char* op : {"BatchMatMul", "BatchMatMulV2"}) {
    registry.Register({op, kDeviceGpu, "T", {DT_FLOAT}, BatchMatMulKernel::Create});
  }
}

}  // namespace gpu
}  // namespace weir
