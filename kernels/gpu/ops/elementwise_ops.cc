// elementwise_ops.cc - The GPU kernels of the elementwise family: the 20 unary ops of
// elementwise.h, the broadcasting binary ops (Add, AddV2, Sub, Mul, RealDiv, Div, Maximum,
// Minimum, Pow, SquaredDifference, FloorDiv, FloorMod), AddN, BiasAdd, Softmax, LogSoftmax,
// Cast, and _WeirElementwiseChain (a fused chain of the unary and binary ops, float).
//
// Each kernel checks shapes on the host, allocates its output (or takes over an input buffer
// that dies here, so chains of elementwise ops reuse one buffer) and enqueues one launcher of
// kernels/gpu/ on the compute stream; nothing waits for the GPU. The launchers exist for
// float, int32 and int64 (Cast also bool), so every row lists at most those and the factory
// picks the template instantiation from the node's dtype.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "graph/shape.h"
#include "graph/types.h"
#include "kernels/gpu/bias_add.h"
#include "kernels/gpu/cast_fill.h"
#include "kernels/gpu/elementwise.h"
#include "kernels/gpu/gpu_status.h"
#include "kernels/gpu/ops/gpu_op_util.h"
#include "kernels/gpu/softmax.h"

namespace weir {
namespace gpu {
namespace {

using KernelOr = absl::StatusOr<std::unique_ptr<OpKernel>>;

// The ops of each launcher family by TensorFlow name: the registry rows below, the elementwise
// chain's steps and ElementwiseChainArity all read these.
// `ints`: the ops elementwise.h marks (int); the launcher rejects the others for integers.
struct UnaryRow {
  const char* op;
  UnaryOp fn;
  bool ints;
};
constexpr UnaryRow kUnaryRows[] = {
    {"Neg", UnaryOp::kNeg, true},      {"Abs", UnaryOp::kAbs, true},
    {"Exp", UnaryOp::kExp, false},     {"Log", UnaryOp::kLog, false},
    {"Log1p", UnaryOp::kLog1p, false}, {"Sqrt", UnaryOp::kSqrt, false},
    {"Rsqrt", UnaryOp::kRsqrt, false}, {"Square", UnaryOp::kSquare, true},
    {"Tanh", UnaryOp::kTanh, false},   {"Sigmoid", UnaryOp::kSigmoid, false},
    {"Relu", UnaryOp::kRelu, true},    {"Relu6", UnaryOp::kRelu6, true},
    {"Elu", UnaryOp::kElu, false},     {"Softplus", UnaryOp::kSoftplus, false},
    {"Sign", UnaryOp::kSign, true},    {"Floor", UnaryOp::kFloor, true},
    {"Ceil", UnaryOp::kCeil, true},    {"Round", UnaryOp::kRound, true},
    {"Erf", UnaryOp::kErf, false},     {"Reciprocal", UnaryOp::kReciprocal, false},
};
// Div is RealDiv for float and truncating division for integers (kDiv does both).
struct BinaryRow {
  const char* op;
  BinaryOp fn;
  bool ints;
};
constexpr BinaryRow kBinaryRows[] = {
    {"Add", BinaryOp::kAdd, true},
    {"AddV2", BinaryOp::kAdd, true},
    {"Sub", BinaryOp::kSub, true},
    {"Mul", BinaryOp::kMul, true},
    {"RealDiv", BinaryOp::kDiv, false},
    {"Div", BinaryOp::kDiv, true},
    {"Maximum", BinaryOp::kMaximum, true},
    {"Minimum", BinaryOp::kMinimum, true},
    {"Pow", BinaryOp::kPow, true},
    {"SquaredDifference", BinaryOp::kSquaredDifference, true},
    {"FloorDiv", BinaryOp::kFloorDiv, true},
    {"FloorMod", BinaryOp::kFloorMod, true},
};

// ---------------------------------------------------------------------------------------------
// Unary ops: one flat launch, in place when the input dies here (the launcher allows in == out).

template <typename T>
class UnaryKernel : public OpKernel {
 public:
  UnaryKernel(const KernelConstruction& c, UnaryOp op) : OpKernel(c), op_(op) {}

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& in = ctx->input(0);
    absl::StatusOr<Tensor*> out =
        ctx->forward_input_or_allocate_output(0, 0, DataTypeToEnum<T>::value, in.shape());
    if (!out.ok()) return out.status();
    const int64_t n = in.num_elements();
    if (n == 0) return absl::OkStatus();
    const T* x = in.data<T>();
    T* y = (*out)->data<T>();
    return Enqueue(ctx, [&](GpuStream stream) { return LaunchUnary<T>(op_, x, y, n, stream); });
  }
  bool IsExpensive() const override { return false; }  // it only enqueues

 private:
  const UnaryOp op_;
};

// ---------------------------------------------------------------------------------------------
// Binary ops with NumPy broadcasting.

// A broadcasting binary op's launch: its output -- allocated as `dtype`, or with `may_forward`
// an operand of the output's shape taken over (the launchers let `out` alias one) -- the
// output's element count (0: nothing to launch) and the operands' shapes for the launcher. An
// operand with the output's element count has the output's layout (broadcasting only adds
// size-1 dimensions), and one with a single element is a scalar: when both operands are one or
// the other, they go to the launcher flat, so the same-shape and scalar cases work at any rank
// (the launchers take rank <= kMaxGpuRank; the CPU kernels have no limit).
struct BroadcastCall {
  Tensor* out = nullptr;
  int64_t n = 0;
  GpuDims lhs, rhs;
};

absl::StatusOr<BroadcastCall> PrepareBroadcast(KernelContext* ctx, DataType dtype,
                                               bool may_forward) {
  const Tensor& lhs = ctx->input(0);
  const Tensor& rhs = ctx->input(1);
  // Qualified: the graph's TensorShape overload, whose InvalidArgument names both shapes.
  absl::StatusOr<TensorShape> shape = weir::BroadcastShapes(lhs.shape(), rhs.shape());
  if (!shape.ok()) return shape.status();
  absl::StatusOr<Tensor*> out;
  if (may_forward) {
    // Prefer lhs; try rhs when lhs cannot be taken over (broadcast, or still read elsewhere):
    // forward_input_or_allocate_output allocates when the input it is given does not qualify.
    const bool lhs_forwardable = lhs.shape() == *shape && lhs.RefCountIsOne();
    const int forward = !lhs_forwardable && rhs.shape() == *shape ? 1 : 0;
    out = ctx->forward_input_or_allocate_output(forward, 0, dtype, *shape);
  } else {
    out = ctx->allocate_output(0, dtype, *shape);
  }
  if (!out.ok()) return out.status();
  BroadcastCall call;
  call.out = *out;
  call.n = shape->num_elements();
  if (call.n == 0) return call;
  const bool flat = (lhs.num_elements() == call.n || lhs.num_elements() == 1) &&
                    (rhs.num_elements() == call.n || rhs.num_elements() == 1);
  if (flat) {
    call.lhs = GpuDims{lhs.num_elements()};
    call.rhs = GpuDims{rhs.num_elements()};
    return call;
  }
  absl::StatusOr<GpuDims> l = ToGpuDims(lhs.shape(), "input 0");
  if (!l.ok()) return l.status();
  absl::StatusOr<GpuDims> r = ToGpuDims(rhs.shape(), "input 1");
  if (!r.ok()) return r.status();
  call.lhs = *l;
  call.rhs = *r;
  return call;
}

template <typename T>
class BinaryKernel : public OpKernel {
 public:
  BinaryKernel(const KernelConstruction& c, BinaryOp op) : OpKernel(c), op_(op) {}

  absl::Status Compute(KernelContext* ctx) override {
    absl::StatusOr<BroadcastCall> call =
        PrepareBroadcast(ctx, DataTypeToEnum<T>::value, /*may_forward=*/true);
    if (!call.ok()) return call.status();
    if (call->n == 0) return absl::OkStatus();
    const T* a = ctx->input(0).data<T>();
    const T* b = ctx->input(1).data<T>();
    T* y = call->out->data<T>();
    return Enqueue(ctx, [&](GpuStream stream) {
      return LaunchBinary<T>(op_, a, call->lhs, b, call->rhs, y, stream);
    });
  }
  bool IsExpensive() const override { return false; }

 private:
  const BinaryOp op_;
};

// ---------------------------------------------------------------------------------------------
// Comparisons (Equal, NotEqual, Less, LessEqual, Greater, GreaterEqual) and LogicalAnd /
// LogicalOr: broadcasting, bool results. LogicalNot: a flat launch.

template <typename T>
class CompareKernel : public OpKernel {
 public:
  CompareKernel(const KernelConstruction& c, CompareOp op) : OpKernel(c), op_(op) {}

  absl::Status Compute(KernelContext* ctx) override {
    absl::StatusOr<BroadcastCall> call = PrepareBroadcast(ctx, DT_BOOL, /*may_forward=*/false);
    if (!call.ok()) return call.status();
    if (call->n == 0) return absl::OkStatus();
    const T* a = ctx->input(0).data<T>();
    const T* b = ctx->input(1).data<T>();
    bool* y = call->out->data<bool>();
    return Enqueue(ctx, [&](GpuStream stream) {
      return LaunchCompare<T>(op_, a, call->lhs, b, call->rhs, y, stream);
    });
  }
  bool IsExpensive() const override { return false; }

 private:
  const CompareOp op_;
};

// CompareKernel<T> for T the C++ type of input 0's dtype (float, int32, int64 or bool: the
// rows list only those).
KernelOr MakeCompare(const KernelConstruction& c, CompareOp op) {
  switch (BaseType(c.input_type(0))) {
    case DT_FLOAT:
      return std::unique_ptr<OpKernel>(new CompareKernel<float>(c, op));
    case DT_INT32:
      return std::unique_ptr<OpKernel>(new CompareKernel<int32_t>(c, op));
    case DT_INT64:
      return std::unique_ptr<OpKernel>(new CompareKernel<int64_t>(c, op));
    case DT_BOOL:
      return std::unique_ptr<OpKernel>(new CompareKernel<bool>(c, op));
    default:
      return absl::InternalError(absl::StrCat("no GPU comparison for dtype ",
                                              DataTypeString(BaseType(c.input_type(0)))));
  }
}

class LogicalKernel : public OpKernel {
 public:
  // `op` is unset for LogicalNot.
  LogicalKernel(const KernelConstruction& c, std::optional<LogicalOp> op) : OpKernel(c), op_(op) {}

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& lhs = ctx->input(0);
    if (!op_.has_value()) {
      absl::StatusOr<Tensor*> out =
          ctx->forward_input_or_allocate_output(0, 0, DT_BOOL, lhs.shape());
      if (!out.ok()) return out.status();
      const bool* x = lhs.data<bool>();
      bool* y = (*out)->data<bool>();
      const int64_t n = lhs.num_elements();
      if (n == 0) return absl::OkStatus();
      return Enqueue(ctx, [&](GpuStream stream) { return LaunchLogicalNot(x, y, n, stream); });
    }
    absl::StatusOr<BroadcastCall> call = PrepareBroadcast(ctx, DT_BOOL, /*may_forward=*/false);
    if (!call.ok()) return call.status();
    if (call->n == 0) return absl::OkStatus();
    const bool* a = lhs.data<bool>();
    const bool* b = ctx->input(1).data<bool>();
    bool* y = call->out->data<bool>();
    return Enqueue(ctx, [&](GpuStream stream) {
      return LaunchLogical(*op_, a, call->lhs, b, call->rhs, y, stream);
    });
  }
  bool IsExpensive() const override { return false; }

 private:
  const std::optional<LogicalOp> op_;
};

// Equal and NotEqual with incompatible_shape_error = false give false/true for shapes that do
// not broadcast instead of an error: those nodes stay on the CPU.
absl::Status StrictShapes(const Node& node) {
  bool strict = true;
  if (node.GetAttr("incompatible_shape_error", &strict).ok() && !strict) {
    return absl::InvalidArgumentError(
        "incompatible_shape_error is false, which the GPU comparison does not implement");
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// AddN: the sum of N inputs of one shape (no broadcasting, as in TensorFlow), as N - 1 Adds
// into the output: out = in0 + in1, then out += in_k. Every launch has the same shape, so the
// tensors are viewed as flat vectors: the same-shape kernel, and no rank limit.

template <typename T>
class AddNKernel : public OpKernel {
 public:
  explicit AddNKernel(const KernelConstruction& c) : OpKernel(c) {}

  absl::Status Compute(KernelContext* ctx) override {
    const int num_inputs = ctx->num_inputs();
    if (num_inputs < 1) return absl::InvalidArgumentError("AddN needs at least one input");
    const Tensor& first = ctx->input(0);
    for (int i = 1; i < num_inputs; ++i) {
      if (ctx->input(i).shape() != first.shape()) {
        return absl::InvalidArgumentError(
            absl::StrCat("input ", i, " has shape ", ctx->input(i).shape().ToString(),
                         ", expected ", first.shape().ToString(), " (as input 0)"));
      }
    }
    // Taking over input 0 is safe: the first Add reads in0[i] before writing out[i], and no
    // other input can share its buffer (its reference count would not be one).
    absl::StatusOr<Tensor*> out =
        ctx->forward_input_or_allocate_output(0, 0, DataTypeToEnum<T>::value, first.shape());
    if (!out.ok()) return out.status();
    const int64_t n = first.num_elements();
    if (n == 0) return absl::OkStatus();
    T* y = (*out)->data<T>();
    LaunchScope scope(ctx);
    if (absl::Status s = scope.Activate(); !s.ok()) return s;
    if (num_inputs == 1) {
      if ((*out)->SharesBufferWith(first)) return absl::OkStatus();  // forwarded: nothing to do
      return scope.device()->CopyDeviceToDevice(first.raw_data(), y, first.TotalBytes());
    }
    // The first launch reads input 0, the later ones the running sum in the output.
    const GpuDims flat{n};
    const T* sum = first.data<T>();
    for (int i = 1; i < num_inputs; ++i) {
      GpuStatus status = LaunchBinary<T>(BinaryOp::kAdd, sum, flat, ctx->input(i).data<T>(), flat,
                                         y, scope.stream());
      if (!status.ok()) return ToStatus(status);
      sum = y;
    }
    return absl::OkStatus();
  }
  bool IsExpensive() const override { return false; }
};

// ---------------------------------------------------------------------------------------------
// BiasAdd: value viewed as [outer, channels, inner]; NHWC (and any rank-2 value) has the
// channels last (inner = 1), NCHW in dimension 1 (inner = the product of the dimensions after
// it).

template <typename T>
class BiasAddKernel : public OpKernel {
 public:
  BiasAddKernel(const KernelConstruction& c, bool nchw) : OpKernel(c), nchw_(nchw) {}

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& value = ctx->input(0);
    const Tensor& bias = ctx->input(1);
    if (value.rank() < 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("input 0 has shape ", value.shape().ToString(), ", expected rank >= 2"));
    }
    const int channel_dim = nchw_ ? 1 : value.rank() - 1;
    const int64_t channels = value.dim(channel_dim);
    if (bias.rank() != 1 || bias.dim(0) != channels) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input 1 has shape ", bias.shape().ToString(), ", expected [", channels,
          "] (the size of ",
          nchw_ ? "dimension 1 of input 0 for data_format NCHW" : "the last dimension of input 0",
          ")"));
    }
    absl::StatusOr<Tensor*> out =
        ctx->forward_input_or_allocate_output(0, 0, DataTypeToEnum<T>::value, value.shape());
    if (!out.ok()) return out.status();
    const int64_t n = value.num_elements();
    if (n == 0) return absl::OkStatus();
    int64_t inner = 1;
    for (int d = channel_dim + 1; d < value.rank(); ++d) inner *= value.dim(d);
    const int64_t outer = n / (channels * inner);  // n > 0, so channels * inner > 0
    const T* x = value.data<T>();
    const T* b = bias.data<T>();
    T* y = (*out)->data<T>();
    return Enqueue(ctx, [&](GpuStream stream) {
      return LaunchBiasAdd<T>(x, b, y, outer, channels, inner, stream);
    });
  }
  bool IsExpensive() const override { return false; }

 private:
  const bool nchw_;
};

KernelOr CreateBiasAdd(const KernelConstruction& c) {
  std::string data_format;
  // A node built without the attr gets the op's default, as the CPU kernel does.
  if (!c.GetAttr("data_format", &data_format).ok()) data_format = "NHWC";
  if (data_format != "NHWC" && data_format != "NCHW") {
    return absl::InvalidArgumentError(
        absl::StrCat("data_format is \"", data_format, "\", expected \"NHWC\" or \"NCHW\""));
  }
  return MakeNumeric<BiasAddKernel>(c, data_format == "NCHW");
}

// ---------------------------------------------------------------------------------------------
// Softmax and LogSoftmax over the last axis (float only), in place when the input dies here.

class SoftmaxKernel : public OpKernel {
 public:
  SoftmaxKernel(const KernelConstruction& c, bool log) : OpKernel(c), log_(log) {}

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& in = ctx->input(0);
    if (in.rank() < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("input 0 has shape ", in.shape().ToString(), ", expected rank >= 1"));
    }
    absl::StatusOr<Tensor*> out = ctx->forward_input_or_allocate_output(0, 0, DT_FLOAT, in.shape());
    if (!out.ok()) return out.status();
    const int64_t n = in.num_elements();
    if (n == 0) return absl::OkStatus();
    const int64_t cols = in.dim(in.rank() - 1);
    const int64_t rows = n / cols;  // n > 0, so cols > 0
    const float* x = in.data<float>();
    float* y = (*out)->data<float>();
    return Enqueue(ctx,
                   [&](GpuStream stream) { return LaunchSoftmax(x, y, rows, cols, log_, stream); });
  }
  bool IsExpensive() const override { return false; }

 private:
  const bool log_;
};

// ---------------------------------------------------------------------------------------------
// Cast between float, int32, int64 and bool.

bool IsCastType(DataType t) { return IsLauncherType(t) || t == DT_BOOL; }

// LaunchCast<From, To> over untyped pointers, so the kernel picks its instantiation once, at
// construction, instead of switching over 16 pairs per step.
using CastFn = GpuStatus (*)(const void* in, void* out, int64_t n, GpuStream stream);

template <typename From, typename To>
GpuStatus CastThunk(const void* in, void* out, int64_t n, GpuStream stream) {
  return LaunchCast<From, To>(static_cast<const From*>(in), static_cast<To*>(out), n, stream);
}

template <typename From>
CastFn CastFrom(DataType dst) {
  switch (dst) {
    case DT_FLOAT:
      return &CastThunk<From, float>;
    case DT_INT32:
      return &CastThunk<From, int32_t>;
    case DT_INT64:
      return &CastThunk<From, int64_t>;
    case DT_BOOL:
      return &CastThunk<From, bool>;
    default:
      return nullptr;
  }
}

CastFn PickCast(DataType src, DataType dst) {
  switch (src) {
    case DT_FLOAT:
      return CastFrom<float>(dst);
    case DT_INT32:
      return CastFrom<int32_t>(dst);
    case DT_INT64:
      return CastFrom<int64_t>(dst);
    case DT_BOOL:
      return CastFrom<bool>(dst);
    default:
      return nullptr;
  }
}

class CastKernel : public OpKernel {
 public:
  static KernelOr Create(const KernelConstruction& c) {
    DataType src, dst;
    if (absl::Status s = c.GetAttr("SrcT", &src); !s.ok()) return s;
    if (absl::Status s = c.GetAttr("DstT", &dst); !s.ok()) return s;
    CastFn fn = src == dst ? nullptr : PickCast(src, dst);
    if (src != dst && fn == nullptr) {
      return absl::InternalError(absl::StrCat("no GPU kernel to cast ", DataTypeString(src), " to ",
                                              DataTypeString(dst), " (float, int32, int64, bool)"));
    }
    return std::unique_ptr<OpKernel>(new CastKernel(c, dst, fn));
  }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& in = ctx->input(0);
    if (fn_ == nullptr) {  // SrcT == DstT: the input is the result
      ctx->set_output(0, in);
      return absl::OkStatus();
    }
    absl::StatusOr<Tensor*> out = ctx->allocate_output(0, dst_, in.shape());
    if (!out.ok()) return out.status();
    const int64_t n = in.num_elements();
    if (n == 0) return absl::OkStatus();
    const void* x = in.raw_data();
    void* y = (*out)->raw_data();
    return Enqueue(ctx, [&](GpuStream stream) { return fn_(x, y, n, stream); });
  }
  bool IsExpensive() const override { return false; }

 private:
  CastKernel(const KernelConstruction& c, DataType dst, CastFn fn)
      : OpKernel(c), dst_(dst), fn_(fn) {}
  const DataType dst_;
  const CastFn fn_;  // null for a same-type Cast
};

// The registry row can check one type attr (SrcT); this turns down a node whose DstT has no
// launcher, so placement can put it on the CPU instead of failing at construction.
absl::Status CastDstSupported(const Node& node) {
  DataType dst;
  if (absl::Status s = node.GetAttr("DstT", &dst); !s.ok()) return s;
  if (IsCastType(dst)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "DstT is ", DataTypeString(dst), "; the GPU Cast writes float, int32, int64 or bool"));
}

// ---------------------------------------------------------------------------------------------
// _WeirElementwiseChain (compiler/passes/elementwise_chain.h): the steps are checked and
// uploaded once, when the plan is built; a step is one launch of LaunchElementwiseChain.

const UnaryRow* FindUnary(const std::string& op) {
  for (const UnaryRow& row : kUnaryRows) {
    if (op == row.op) return &row;
  }
  return nullptr;
}

const BinaryRow* FindBinary(const std::string& op) {
  for (const BinaryRow& row : kBinaryRows) {
    if (op == row.op) return &row;
  }
  return nullptr;
}

class ElementwiseChainKernel : public OpKernel {
 public:
  static KernelOr Create(const KernelConstruction& c) {
    std::vector<std::string> ops;
    std::vector<int64_t> operands, acc_left;
    if (auto s = c.GetAttr("ops", &ops); !s.ok()) return s;
    if (auto s = c.GetAttr("operands", &operands); !s.ok()) return s;
    if (auto s = c.GetAttr("acc_left", &acc_left); !s.ok()) return s;
    const int n = c.num_inputs();
    if (ops.empty() || operands.size() != ops.size() || acc_left.size() != ops.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("ops, operands and acc_left must have one entry per step, found ",
                       ops.size(), ", ", operands.size(), " and ", acc_left.size()));
    }
    if (n < 1 || n > kMaxChainOperands) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the GPU elementwise chain reads 1 to ", kMaxChainOperands, " inputs, found ", n));
    }
    std::vector<ChainStep> steps(ops.size());
    for (size_t s = 0; s < ops.size(); ++s) {
      ChainStep& step = steps[s];
      if (operands[s] == ChainStep::kNone) {
        const UnaryRow* row = FindUnary(ops[s]);
        if (row == nullptr) {
          return absl::InvalidArgumentError(absl::StrCat(
              "step ", s, ": ", ops[s], " is not a unary op the GPU elementwise chain runs"));
        }
        step.is_binary = 0;
        step.op = static_cast<int8_t>(row->fn);
        continue;
      }
      const BinaryRow* row = FindBinary(ops[s]);
      if (row == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat(
            "step ", s, ": ", ops[s], " is not a binary op the GPU elementwise chain runs"));
      }
      if (operands[s] != ChainStep::kAccumulator && (operands[s] < 0 || operands[s] >= n)) {
        return absl::InvalidArgumentError(absl::StrCat("step ", s, ": operand ", operands[s],
                                                       " is not an input (of ", n, ")"));
      }
      step.is_binary = 1;
      step.op = static_cast<int8_t>(row->fn);
      step.operand = static_cast<int8_t>(operands[s]);
      step.acc_left = acc_left[s] != 0 ? 1 : 0;
    }
    // The steps go to device memory once; the stream orders every later launch after the copy.
    GpuDevice* device = GpuDeviceOf(c);
    const size_t bytes = steps.size() * sizeof(ChainStep);
    Tensor device_steps(device->allocator(), DT_UINT8,
                        TensorShape({static_cast<int64_t>(bytes)}));
    if (device_steps.raw_data() == nullptr) {
      return OutOfMemoryError(device->name(), bytes, c.name(), c.op(), device->memory_stats());
    }
    {
      absl::MutexLock lock(&device->launch_mutex());
      if (auto s = device->CopyHostToDevice(steps.data(), device_steps.raw_data(), bytes);
          !s.ok()) {
        return s;
      }
    }
    // `steps` goes when this returns: the copy must have read it.
    if (auto s = device->SynchronizeStream(GpuDevice::Stream::kCompute); !s.ok()) return s;
    if (auto s = device->SynchronizeStream(GpuDevice::Stream::kHostToDevice); !s.ok()) return s;
    return std::unique_ptr<OpKernel>(
        new ElementwiseChainKernel(c, static_cast<int>(steps.size()), std::move(device_steps)));
  }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& start = ctx->input(0);
    const int64_t n = start.num_elements();
    ChainOperands operands;
    operands.count = ctx->num_inputs();
    for (int k = 0; k < operands.count; ++k) {
      const Tensor& t = ctx->input(k);
      if (t.dtype() != DT_FLOAT) {
        return absl::InvalidArgumentError(
            absl::StrCat("input ", k, " is ", DataTypeString(t.dtype()), ", expected float"));
      }
      if (t.num_elements() != n) {
        if (t.num_elements() != 1) {
          return absl::InvalidArgumentError(absl::StrCat(
              "input ", k, " has shape ", t.shape().ToString(), ", expected ",
              start.shape().ToString(), " (the first input's) or one element"));
        }
        operands.scalar_mask |= 1u << k;
      }
      operands.data[k] = t.data<float>();
    }
    // Input 0 may become the output: each element is read before it is written, by the same
    // thread, and the other inputs are other tensors (the fusion lists each tensor once).
    absl::StatusOr<Tensor*> out =
        ctx->forward_input_or_allocate_output(0, 0, DT_FLOAT, start.shape());
    if (!out.ok()) return out.status();
    if (n == 0) return absl::OkStatus();
    const float* x = start.data<float>();
    float* y = (*out)->data<float>();
    const auto* steps = static_cast<const ChainStep*>(steps_.raw_data());
    return Enqueue(ctx, [&](GpuStream stream) {
      return LaunchElementwiseChain(x, operands, steps, nullptr, num_steps_, y, n, stream);
    });
  }
  bool IsExpensive() const override { return false; }

 private:
  ElementwiseChainKernel(const KernelConstruction& c, int num_steps, Tensor steps)
      : OpKernel(c), num_steps_(num_steps), steps_(std::move(steps)) {}
  const int num_steps_;
  const Tensor steps_;  // device memory: num_steps_ ChainSteps
};

}  // namespace

int ElementwiseChainArity(const Node& node) {
  DataType t = DT_INVALID;
  if (!node.GetAttr("T", &t).ok() || t != DT_FLOAT) return 0;
  if (node.num_inputs() == 1 && FindUnary(node.op()) != nullptr) return 1;
  if (node.num_inputs() == 2 && FindBinary(node.op()) != nullptr) return 2;
  return 0;
}

void RegisterGpuElementwiseKernels(KernelRegistry& registry) {
  const std::vector<DataType> numeric = {DT_FLOAT, DT_INT32, DT_INT64};
  const std::vector<DataType> float_only = {DT_FLOAT};

  for (const UnaryRow& row : kUnaryRows) {
    registry.Register({row.op, kDeviceGpu, "T", row.ints ? numeric : float_only,
                       NumericFactory<UnaryKernel>(row.fn)});
  }

  for (const BinaryRow& row : kBinaryRows) {
    registry.Register({row.op, kDeviceGpu, "T", row.ints ? numeric : float_only,
                       NumericFactory<BinaryKernel>(row.fn)});
  }

  registry.Register({"AddN", kDeviceGpu, "T", numeric, NumericFactory<AddNKernel>()});
  registry.Register({"BiasAdd", kDeviceGpu, "T", numeric, CreateBiasAdd});

  for (bool log : {false, true}) {
    registry.Register({log ? "LogSoftmax" : "Softmax", kDeviceGpu, "T", float_only,
                       [log](const KernelConstruction& c) -> KernelOr {
                         return std::unique_ptr<OpKernel>(new SoftmaxKernel(c, log));
                       }});
  }

  registry.Register({"_WeirElementwiseChain", kDeviceGpu, "T", float_only,
                     ElementwiseChainKernel::Create});

  const std::vector<DataType> comparable = {DT_FLOAT, DT_INT32, DT_INT64, DT_BOOL};
  struct CompareRow {
    const char* op;
    CompareOp fn;
    bool bools;  // Equal and NotEqual also compare bools
  };
  const CompareRow compare_rows[] = {
      {"Equal", CompareOp::kEqual, true},      {"NotEqual", CompareOp::kNotEqual, true},
      {"Less", CompareOp::kLess, false},       {"LessEqual", CompareOp::kLessEqual, false},
      {"Greater", CompareOp::kGreater, false}, {"GreaterEqual", CompareOp::kGreaterEqual, false},
  };
  for (const CompareRow& row : compare_rows) {
    const CompareOp fn = row.fn;
    KernelDef def{row.op, kDeviceGpu, "T", row.bools ? comparable : numeric,
                  [fn](const KernelConstruction& c) { return MakeCompare(c, fn); }};
    if (row.bools) def.constraint = StrictShapes;
    registry.Register(std::move(def));
  }
  for (auto [op, fn] : {std::pair<const char*, std::optional<LogicalOp>>{"LogicalAnd", LogicalOp::kAnd},
                        {"LogicalOr", LogicalOp::kOr},
                        {"LogicalNot", std::nullopt}}) {
    registry.Register({op, kDeviceGpu, "", {},
                       [fn = fn](const KernelConstruction& c) -> KernelOr {
                         return std::unique_ptr<OpKernel>(new LogicalKernel(c, fn));
                       }});
  }

  KernelDef cast{
      "Cast", kDeviceGpu, "SrcT", {DT_FLOAT, DT_INT32, DT_INT64, DT_BOOL}, CastKernel::Create};
  cast.constraint = CastDstSupported;
  registry.Register(std::move(cast));
}

}  // namespace gpu
}  // namespace weir
