// core_ops.cc - The GPU kernels every GPU partition needs: Const (uploaded once), the ops that
// only relabel a tensor (Identity, Reshape, ExpandDims, Squeeze), and _Send/_Recv, where a
// tensor crosses between host and device memory.
//
// The relabeling ops never touch element data, so their GPU kernel is the CPU kernel run on a
// device tensor, with the host-memory argument (Reshape's shape, ExpandDims' axis) read once
// from its Const node and passed in host memory.
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kernels/gpu/ops/gpu_op_util.h"
#include "runtime/rendezvous.h"

namespace weir {
namespace gpu {
namespace {

// Numeric types a GPU tensor may hold (no strings, no resources).
const std::vector<DataType>& DeviceTypes() {
  static const std::vector<DataType> types = {DT_FLOAT, DT_DOUBLE, DT_INT32, DT_INT64, DT_BOOL,
                                              DT_UINT8, DT_INT8,   DT_INT16, DT_HALF,  DT_BFLOAT16};
  return types;
}

// Const: the value is copied to the device once, when the plan is built; every step hands out
// the same device tensor.
class ConstKernel : public OpKernel {
 public:
  static absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelConstruction& c) {
    const TensorProto* proto = nullptr;
    if (auto s = c.GetAttr("value", &proto); !s.ok()) return s;
    absl::StatusOr<Tensor> host = Tensor::FromProto(*proto);
    if (!host.ok()) return host.status();
    GpuDevice* device = GpuDeviceOf(c);
    Tensor value(device->allocator(), host->dtype(), host->shape());
    if (value.raw_data() == nullptr && value.TotalBytes() > 0) {
      return OutOfMemoryError(device->name(), host->TotalBytes(), c.name(), c.op(),
                              device->memory_stats());
    }
    {
      absl::MutexLock lock(&device->launch_mutex());
      if (auto s = device->CopyHostToDevice(host->raw_data(), value.raw_data(), host->TotalBytes());
          !s.ok()) {
        return s;
      }
    }
    // The host tensor goes when this returns: the copy must have read it.
    if (auto s = device->SynchronizeStream(GpuDevice::Stream::kCompute); !s.ok()) return s;
    if (auto s = device->SynchronizeStream(GpuDevice::Stream::kHostToDevice); !s.ok()) return s;
    return std::unique_ptr<OpKernel>(new ConstKernel(c, std::move(value)));
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

// A CPU kernel that only reads its data input's shape, run on a device tensor. Inputs listed
// in `host_inputs` are constants read at construction and passed in host memory.
class RelabelKernel : public OpKernel {
 public:
  static KernelFactory Factory(const KernelRegistry* registry, std::vector<int> host_inputs) {
    return [registry, host_inputs](
               const KernelConstruction& c) -> absl::StatusOr<std::unique_ptr<OpKernel>> {
      absl::StatusOr<const KernelDef*> cpu_def = registry->Find(c.node(), kDeviceCpu);
      if (!cpu_def.ok()) return cpu_def.status();
      absl::StatusOr<std::unique_ptr<OpKernel>> cpu = (*cpu_def)->factory(c);
      if (!cpu.ok()) return cpu.status();
      std::vector<Tensor> constants(c.num_inputs());
      for (int i : host_inputs) {
        absl::StatusOr<Tensor> value = ConstInputValue(c.node(), i);
        if (!value.ok()) return value.status();
        constants[i] = *std::move(value);
      }
      return std::unique_ptr<OpKernel>(
          new RelabelKernel(c, *std::move(cpu), std::move(constants)));
    };
  }

  absl::Status Compute(KernelContext* ctx) override {
    // At most 3 inputs (Reshape, ExpandDims: 2; Identity, Squeeze: 1): no allocation.
    Tensor inputs[3];
    const int n = ctx->num_inputs();
    if (n > 3) return absl::InternalError("relabeling kernel with more than 3 inputs");
    for (int i = 0; i < n; ++i) {
      inputs[i] = constants_[i].IsInitialized() ? constants_[i] : ctx->input(i);
    }
    Tensor output;
    KernelContext inner(ctx->device(), ctx->call_frame(), inputs, n, &output, 1);
    if (auto s = cpu_->Compute(&inner); !s.ok()) return s;
    ctx->set_output(0, std::move(output));
    return absl::OkStatus();
  }
  bool IsExpensive() const override { return false; }

 private:
  RelabelKernel(const KernelConstruction& c, std::unique_ptr<OpKernel> cpu,
                std::vector<Tensor> constants)
      : OpKernel(c), cpu_(std::move(cpu)), constants_(std::move(constants)) {}
  std::unique_ptr<OpKernel> cpu_;
  std::vector<Tensor> constants_;  // per input: the host constant, or empty
};

// _Send on the GPU: copies the tensor to host memory and waits for the copy before handing it
// over (the receiver on the CPU reads it at once). The wait is the step's only host
// synchronization when its fetches come from the GPU.
class SendKernel : public OpKernel {
 public:
  SendKernel(const KernelConstruction& c, std::string key) : OpKernel(c), key_(std::move(key)) {}
  absl::Status Compute(KernelContext* ctx) override {
    absl::StatusOr<Rendezvous*> step_rendezvous = StepRendezvous(*ctx);
    if (!step_rendezvous.ok()) return step_rendezvous.status();
    Rendezvous* rendezvous = *step_rendezvous;
    const Tensor& in = ctx->input(0);
    GpuDevice* device = GpuDeviceOf(ctx);
    const size_t bytes = in.TotalBytes();
    if (device->capturing()) {
      // Recording a CUDA graph (runtime/gpu_graph_runner.h): the copy goes into pinned memory
      // the graph keeps, and the runner reads it after each replay. No wait: capture forbids it.
      Tensor pinned(device->host_allocator(), in.dtype(), in.shape());
      if (pinned.raw_data() == nullptr && bytes > 0) {
        // Aborted: the graph runner tries the capture again on a later step (the pool also
        // holds fetched tensors the application keeps, which may go).
        return absl::AbortedError(absl::StrCat(
            "out of pinned host memory allocating ", bytes, " bytes while capturing"));
      }
      {
        absl::MutexLock lock(&device->launch_mutex());
        if (auto s = device->CopyDeviceToHost(in.raw_data(), pinned.raw_data(), bytes);
            !s.ok()) {
          return s;
        }
      }
      return rendezvous->Send(key_, std::move(pinned));
    }
    // Pinned memory from the process's pool, which outlives every session, so the fetched
    // tensor may too; the copy then needs no staging by the driver. When the pool is at its
    // limit, ordinary host memory.
    Tensor host(GpuHostAllocator(), in.dtype(), in.shape());
    if (host.raw_data() == nullptr && bytes > 0) host = Tensor(in.dtype(), in.shape());
    {
      absl::MutexLock lock(&device->launch_mutex());
      if (auto s = device->CopyDeviceToHost(in.raw_data(), host.raw_data(), bytes); !s.ok()) {
        // The copy may have been enqueued on the copy stream before a later call failed: let it
        // finish before `host` goes back to the pool.
        (void)device->SynchronizeStream(GpuDevice::Stream::kDeviceToHost);
        return s;
      }
    }
    const GpuDevice::Stream stream = bytes <= GpuDevice::kSmallCopyBytes
                                         ? GpuDevice::Stream::kCompute
                                         : GpuDevice::Stream::kDeviceToHost;
    if (auto s = device->SynchronizeStream(stream); !s.ok()) return s;
    return rendezvous->Send(key_, std::move(host));
  }
  bool IsExpensive() const override { return false; }

 private:
  std::string key_;
};

// _Recv on the GPU: when the host tensor arrives (on the sender's thread), enqueues its copy
// into a new device tensor and completes; kernels after it on the stream see the copy done.
class RecvKernel : public AsyncOpKernel {
 public:
  RecvKernel(const KernelConstruction& c, std::string key) : AsyncOpKernel(c), key_(std::move(key)) {}
  void ComputeAsync(KernelContext* ctx, DoneCallback done) override {
    absl::StatusOr<Rendezvous*> step_rendezvous = StepRendezvous(*ctx);
    if (!step_rendezvous.ok()) {
      ctx->SetStatus(step_rendezvous.status());
      done();
      return;
    }
    Rendezvous* rendezvous = *step_rendezvous;
    rendezvous->RecvAsync(key_, [ctx, done = std::move(done)](const absl::Status& status,
                                                             const Tensor& value) {
      if (!status.ok()) {
        ctx->SetStatus(status);
        done();
        return;
      }
      absl::StatusOr<Tensor*> out = ctx->allocate_output(0, value.dtype(), value.shape());
      if (!out.ok()) {
        ctx->SetStatus(out.status());
        done();
        return;
      }
      GpuDevice* device = GpuDeviceOf(ctx);
      const size_t bytes = value.TotalBytes();
      // The copy reads pinned memory, so it is asynchronous and the host memory is kept until
      // the step's final synchronization (ReleaseAfterSync). Pageable memory is staged into
      // pinned memory first: a copy from pageable memory may wait for the stream's earlier
      // work and is staged by the driver anyway. While a CUDA graph is recorded the value is
      // the graph runner's pinned staging buffer, which the graph keeps (nothing to stage:
      // a host memcpy would not be recorded).
      Tensor source = value;
      if (!device->capturing() && bytes > 0 && !IsGpuHostTensor(value)) {
        Tensor staging(GpuHostAllocator(), value.dtype(), value.shape());
        if (staging.raw_data() != nullptr) {
          std::memcpy(staging.raw_data(), value.raw_data(), bytes);
          source = std::move(staging);
        }
      }
      absl::Status copied;
      {
        absl::MutexLock lock(&device->launch_mutex());
        // From pageable memory (pinned pool at its limit) CUDA returns once it has read the
        // source, so `value` may go when this callback returns.
        copied = device->CopyHostToDevice(source.raw_data(), (*out)->raw_data(), bytes);
      }
      if (!copied.ok() && !device->capturing()) {
        // The copy may be on the copy stream without the compute stream waiting for it (a
        // failed join), so the step's final sync would not cover it: wait for it here.
        (void)device->SynchronizeStream(GpuDevice::Stream::kHostToDevice);
      } else if (!device->capturing() && IsGpuHostTensor(source)) {
        device->ReleaseAfterSync(std::move(source));
      }
      ctx->SetStatus(copied);
      // Only after the launch mutex is released: done() runs the kernels this one made ready
      // inline on this thread, and each takes the (non-reentrant) launch mutex itself.
      done();
    });
  }

 private:
  std::string key_;
};

template <typename KernelClass>
absl::StatusOr<std::unique_ptr<OpKernel>> CreateSendRecv(const KernelConstruction& c) {
  absl::StatusOr<std::string> key = RendezvousKeyOf(c.node());
  if (!key.ok()) return key.status();
  return std::unique_ptr<OpKernel>(new KernelClass(c, *std::move(key)));
}

}  // namespace

void RegisterGpuCoreKernels(KernelRegistry& registry) {
  const std::vector<DataType>& types = DeviceTypes();
  registry.Register({"Const", kDeviceGpu, "dtype", types, ConstKernel::Create});
  registry.Register({"_Send", kDeviceGpu, "T", types, CreateSendRecv<SendKernel>});
  registry.Register({"_Recv", kDeviceGpu, "tensor_type", types, CreateSendRecv<RecvKernel>});
  for (const char* op : {"Identity", "StopGradient", "Squeeze"}) {
    registry.Register({op, kDeviceGpu, "T", types, RelabelKernel::Factory(&registry, {})});
  }
  KernelDef reshape{"Reshape", kDeviceGpu, "T", types, RelabelKernel::Factory(&registry, {1})};
  reshape.constraint = ConstInputs({1});
  registry.Register(std::move(reshape));
  KernelDef expand{"ExpandDims", kDeviceGpu, "T", types, RelabelKernel::Factory(&registry, {1})};
  expand.constraint = ConstInputs({1});
  registry.Register(std::move(expand));
}

}  // namespace gpu
}  // namespace weir
