// kernel.h - The kernel interface: an OpKernel is created once per node of a compiled plan
// (from a KernelConstruction) and computes many times (given a KernelContext per step).
//
// Kernels return absl::Status. Messages describe the problem only ("input 1 has shape [3,4],
// expected inner dimension 5"); the executor prefixes the node name and op.
#ifndef WEIR_RUNTIME_KERNEL_H_
#define WEIR_RUNTIME_KERNEL_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "graph/attr.h"
#include "graph/graph.h"
#include "runtime/device.h"
#include "runtime/tensor.h"

namespace weir {

class Rendezvous;

// Tensors passed into and out of one step: the session's feeds become _Arg kernels reading
// `args`, its fetches _Retval kernels writing `retvals`. A plan partitioned over several
// devices shares one frame among its partitions' executors, with the step's rendezvous where
// their _Send and _Recv kernels meet (null for a one-device plan).
struct CallFrame {
  std::vector<Tensor> args;
  std::vector<Tensor> retvals;
  Rendezvous* rendezvous = nullptr;
};

// What a kernel may read when it is created.
class KernelConstruction {
 public:
  KernelConstruction(const Node& node, Device* device) : node_(node), device_(device) {}

  const Node& node() const { return node_; }
  const std::string& name() const { return node_.name(); }
  const std::string& op() const { return node_.op(); }
  const AttrMap& attrs() const { return node_.attrs(); }
  template <typename T>
  absl::Status GetAttr(absl::string_view name, T* value) const {
    return node_.GetAttr(name, value);
  }
  int num_inputs() const { return node_.num_inputs(); }
  int num_outputs() const { return node_.num_outputs(); }
  DataType input_type(int i) const { return node_.input_type(i); }
  DataType output_type(int i) const { return node_.output_type(i); }
  // Shape inference's result for output i (may be partial).
  const PartialShape& output_shape(int i) const { return node_.output_shape(i); }
  Device* device() const { return device_; }

 private:
  const Node& node_;
  Device* device_;
};

// What a kernel sees in one step. Inputs are shared references to the producers' tensors.
class KernelContext {
 public:
  // `inputs` and `outputs` point at arrays of num_inputs / num_outputs tensors owned by the
  // caller (the executor's per-step slots), so running a kernel allocates nothing.
  KernelContext(Device* device, CallFrame* frame, Tensor* inputs, int num_inputs,
                Tensor* outputs, int num_outputs)
      : device_(device),
        frame_(frame),
        inputs_(inputs),
        num_inputs_(num_inputs),
        outputs_(outputs),
        num_outputs_(num_outputs) {}
  KernelContext(Device* device, CallFrame* frame, std::vector<Tensor>* inputs,
                std::vector<Tensor>* outputs)
      : KernelContext(device, frame, inputs->data(), static_cast<int>(inputs->size()),
                      outputs->data(), static_cast<int>(outputs->size())) {}

  int num_inputs() const { return num_inputs_; }
  const Tensor& input(int i) const { return inputs_[i]; }
  int num_outputs() const { return num_outputs_; }

  // Allocates output i with the device's allocator; ResourceExhausted naming the bytes
  // asked for when memory runs out. The dtype is the node's output dtype.
  absl::StatusOr<Tensor*> allocate_output(int i, DataType dtype, TensorShape shape);
  // In-place execution for elementwise kernels (out[k] computed from in[k] only): output i
  // takes input `input`'s buffer when this step holds the only reference to it -- the executor
  // moved the tensor here at its last use; feeds, constants, variables and fetched tensors are
  // always held elsewhere -- and the dtype and shape match. Otherwise it allocates like
  // allocate_output. The static memory plan (compiler/memory_plan.h) predicts where this
  // happens.
  absl::StatusOr<Tensor*> forward_input_or_allocate_output(int input, int i, DataType dtype,
                                                           const TensorShape& shape);
  // Sets output i to an existing tensor (forwarding an input, a reshaped view, a constant).
  void set_output(int i, Tensor tensor) { outputs_[i] = std::move(tensor); }
  const Tensor& output(int i) const { return outputs_[i]; }

  Device* device() const { return device_; }
  CallFrame* call_frame() const { return frame_; }

  // How an asynchronous kernel reports failure before calling its done callback (a synchronous
  // kernel returns its status instead).
  void SetStatus(absl::Status status) {
    if (status_.ok()) status_ = std::move(status);
  }
  const absl::Status& status() const { return status_; }

 private:
  Device* device_;
  CallFrame* frame_;
  Tensor* inputs_;
  int num_inputs_;
  Tensor* outputs_;
  int num_outputs_;
  absl::Status status_;
};

class AsyncOpKernel;

class OpKernel {
 public:
  explicit OpKernel(const KernelConstruction& construction)
      : name_(construction.name()), op_(construction.op()) {}
  virtual ~OpKernel() = default;
  OpKernel(const OpKernel&) = delete;
  OpKernel& operator=(const OpKernel&) = delete;

  // Called concurrently from many steps: must not mutate the kernel without a lock.
  virtual absl::Status Compute(KernelContext* ctx) = 0;
  // Cheap kernels (shape ops, Identity, _Arg) run inline on the scheduling thread; the rest may
  // go to the inter-op pool when other work is ready too.
  virtual bool IsExpensive() const { return true; }

  const std::string& name() const { return name_; }
  const std::string& op() const { return op_; }
  // Non-null for kernels that complete later (AsyncOpKernel).
  virtual AsyncOpKernel* AsAsync() { return nullptr; }

 private:
  std::string name_;
  std::string op_;
};

// A kernel that starts work and returns before it is finished (a GPU kernel enqueued on a
// stream, an I/O wait): ComputeAsync returns at once and calls `done` exactly once, from any
// thread, after setting the outputs or ctx->SetStatus(error). The context stays valid until
// then. The executor does not block a thread while it waits; the step ends after the last
// callback.
class AsyncOpKernel : public OpKernel {
 public:
  using OpKernel::OpKernel;
  using DoneCallback = std::function<void()>;
  virtual void ComputeAsync(KernelContext* ctx, DoneCallback done) = 0;
  // Synchronous use (the loop executor, tests): starts the work and waits for it.
  absl::Status Compute(KernelContext* ctx) final;
  AsyncOpKernel* AsAsync() final { return this; }
};

}  // namespace weir

#endif  // WEIR_RUNTIME_KERNEL_H_
