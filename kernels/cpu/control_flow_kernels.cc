// control_flow_kernels.cc - Switch, Merge, Enter, Exit, NextIteration and LoopCond on the CPU
// (and their Ref* forms from old graphs).
// The executor gives them their meaning: an output Switch leaves unset is dead, Merge receives
// only its first live input, and the loop ops forward their input into another frame or
// iteration, which the executor picks from the op (executor.h).
#include "absl/strings/str_cat.h"
#include "kernels/cpu/registry.h"

namespace weir {
namespace {

class SwitchKernel : public OpKernel {
 public:
  explicit SwitchKernel(const KernelConstruction& c) : OpKernel(c) {}
  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& pred = ctx->input(1);
    if (pred.num_elements() != 1) {
      return absl::InvalidArgumentError(absl::StrCat("pred has shape ", pred.shape().ToString(),
                                                     ", expected a scalar"));
    }
    ctx->set_output(pred.data<bool>()[0] ? 1 : 0, ctx->input(0));
    return absl::OkStatus();
  }
  bool IsExpensive() const override { return false; }
};

class MergeKernel : public OpKernel {
 public:
  explicit MergeKernel(const KernelConstruction& c) : OpKernel(c) {}
  absl::Status Compute(KernelContext* ctx) override {
    for (int i = 0; i < ctx->num_inputs(); ++i) {
      if (!ctx->input(i).IsInitialized()) continue;
      ctx->set_output(0, ctx->input(i));
      absl::StatusOr<Tensor*> index = ctx->allocate_output(1, DT_INT32, TensorShape{});
      if (!index.ok()) return index.status();
      (*index)->data<int32_t>()[0] = i;
      return absl::OkStatus();
    }
    return absl::InternalError("merge ran without a live input");
  }
  bool IsExpensive() const override { return false; }
};

// Enter, Exit, NextIteration and LoopCond: the value passes unchanged; only where it goes
// differs, and the executor decides that.
class ForwardKernel : public OpKernel {
 public:
  explicit ForwardKernel(const KernelConstruction& c) : OpKernel(c) {}
  absl::Status Compute(KernelContext* ctx) override {
    ctx->set_output(0, ctx->input(0));
    return absl::OkStatus();
  }
  bool IsExpensive() const override { return false; }
};

}  // namespace

void RegisterCpuControlFlowKernels(KernelRegistry& registry) {
  // Tensors pass through unchanged, so every dtype does, strings included. The Ref* ops of old
  // TensorFlow 1.x graphs behave exactly like their plain forms (Weir has no reference
  // variables; a ref-typed value is just the value).
  for (const char* op : {"Switch", "RefSwitch"}) {
    registry.Register({op, kDeviceCpu, "", {}, MakeFactory<SwitchKernel>(), true});
  }
  for (const char* op : {"Merge", "RefMerge"}) {
    registry.Register({op, kDeviceCpu, "", {}, MakeFactory<MergeKernel>(), true});
  }
  for (const char* op : {"Enter", "RefEnter", "Exit", "RefExit", "NextIteration",
                         "RefNextIteration", "LoopCond"}) {
    registry.Register({op, kDeviceCpu, "", {}, MakeFactory<ForwardKernel>(), true});
  }
}

}  // namespace weir
