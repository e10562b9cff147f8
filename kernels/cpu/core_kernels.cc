// core_kernels.cc - Graph plumbing on the CPU: Const, Identity (and old graphs' RefIdentity),
// NoOp, PlaceholderWithDefault, and the session's _Arg/_Retval, which move tensors through the
// step's call frame.
#include "absl/strings/str_cat.h"
#include "kernels/cpu/registry.h"

namespace weir {
namespace {

// Decodes the value once, when the plan is built; each step shares the buffer.
class ConstKernel : public OpKernel {
 public:
  static absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelConstruction& c) {
    const TensorProto* proto;
    if (auto s = c.GetAttr("value", &proto); !s.ok()) return s;
    absl::StatusOr<Tensor> value = Tensor::FromProto(*proto);
    if (!value.ok()) return value.status();
    return std::unique_ptr<OpKernel>(new ConstKernel(c, *std::move(value)));
  }
  absl::Status Compute(KernelContext* ctx) override {
    ctx->set_output(0, value_);
    return absl::OkStatus();
  }
  bool IsExpensive() const override { return false; }

 private:
  ConstKernel(const KernelConstruction& c, Tensor value) : OpKernel(c), value_(std::move(value)) {}
  Tensor value_;
};

// Identity, PlaceholderWithDefault (when not fed) and friends: output 0 is input 0.
class ForwardKernel : public OpKernel {
 public:
  explicit ForwardKernel(const KernelConstruction& c) : OpKernel(c) {}
  absl::Status Compute(KernelContext* ctx) override {
    ctx->set_output(0, ctx->input(0));
    return absl::OkStatus();
  }
  bool IsExpensive() const override { return false; }
};

class NoOpKernel : public OpKernel {
 public:
  explicit NoOpKernel(const KernelConstruction& c) : OpKernel(c) {}
  absl::Status Compute(KernelContext*) override { return absl::OkStatus(); }
  bool IsExpensive() const override { return false; }
};

// A Placeholder only runs when a fetch needs it and nobody fed it.
class PlaceholderKernel : public OpKernel {
 public:
  explicit PlaceholderKernel(const KernelConstruction& c) : OpKernel(c) {
    c.GetAttr("dtype", &dtype_).IgnoreError();
    c.GetAttr("shape", &shape_).IgnoreError();
  }
  absl::Status Compute(KernelContext*) override {
    return absl::InvalidArgumentError(absl::StrCat("you must feed a value for placeholder '",
                                                   name(), "' (dtype ", DataTypeString(dtype_),
                                                   ", shape ", shape_.ToString(), ")"));
  }

 private:
  DataType dtype_ = DT_INVALID;
  PartialShape shape_;
};

class ArgKernel : public OpKernel {
 public:
  explicit ArgKernel(const KernelConstruction& c) : OpKernel(c) {
    c.GetAttr("index", &index_).IgnoreError();
  }
  absl::Status Compute(KernelContext* ctx) override {
    CallFrame* frame = ctx->call_frame();
    if (frame == nullptr || index_ < 0 || index_ >= static_cast<int64_t>(frame->args.size())) {
      return absl::InternalError(absl::StrCat("argument ", index_, " missing from call frame"));
    }
    ctx->set_output(0, frame->args[index_]);
    return absl::OkStatus();
  }
  bool IsExpensive() const override { return false; }

 private:
  int64_t index_ = -1;
};

class RetvalKernel : public OpKernel {
 public:
  explicit RetvalKernel(const KernelConstruction& c) : OpKernel(c) {
    c.GetAttr("index", &index_).IgnoreError();
  }
  absl::Status Compute(KernelContext* ctx) override {
    CallFrame* frame = ctx->call_frame();
    if (frame == nullptr || index_ < 0 || index_ >= static_cast<int64_t>(frame->retvals.size())) {
      return absl::InternalError(absl::StrCat("return value ", index_, " missing from call frame"));
    }
    frame->retvals[index_] = ctx->input(0);
    return absl::OkStatus();
  }
  bool IsExpensive() const override { return false; }

 private:
  int64_t index_ = -1;
};

}  // namespace

void RegisterCpuCoreKernels(KernelRegistry& registry) {
  // These only move tensors (or decode a Const's proto), so string tensors pass too.
  registry.Register({"Const", kDeviceCpu, "", {}, ConstKernel::Create, true});
  registry.Register({"Identity", kDeviceCpu, "", {}, MakeFactory<ForwardKernel>(), true});
  registry.Register({"RefIdentity", kDeviceCpu, "", {}, MakeFactory<ForwardKernel>(), true});
  registry.Register(
      {"PlaceholderWithDefault", kDeviceCpu, "", {}, MakeFactory<ForwardKernel>(), true});
  registry.Register({"NoOp", kDeviceCpu, "", {}, MakeFactory<NoOpKernel>()});
  registry.Register({"Placeholder", kDeviceCpu, "", {}, MakeFactory<PlaceholderKernel>(), true});
  registry.Register({"_Arg", kDeviceCpu, "", {}, MakeFactory<ArgKernel>(), true});
  registry.Register({"_Retval", kDeviceCpu, "", {}, MakeFactory<RetvalKernel>(), true});
}

}  // namespace weir
