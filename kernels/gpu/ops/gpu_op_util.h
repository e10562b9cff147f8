// gpu_op_util.h - What the GPU OpKernels share: their device and stream, launcher statuses as
// absl::Status, shapes as GpuDims, and constant inputs read once at construction.
//
// A GPU OpKernel enqueues its work on the device's compute stream and returns; nothing here
// waits for the GPU. The executor's _Send (device to host) and the session's end of step are
// the only waits. Kernels hold GpuDevice::launch_mutex() while they enqueue (LaunchScope), so
// launches from several host threads never interleave.
//
// Host-memory arguments: where TensorFlow's GPU kernels take an axis, a permutation or a shape
// in host memory, these kernels read it once, at construction, from the Const node that
// produces it (constant folding leaves static graphs that way). The registry row's constraint
// (ConstInputs) turns a node with a computed axis down, and placement runs it on the CPU.
#ifndef WEIR_KERNELS_GPU_OPS_GPU_OP_UTIL_H_
#define WEIR_KERNELS_GPU_OPS_GPU_OP_UTIL_H_

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "graph/graph.h"
#include "kernels/gpu/gpu_status.h"
#include "runtime/gpu/gpu_device.h"
#include "runtime/kernel.h"
#include "runtime/kernel_registry.h"

namespace weir {
namespace gpu {

// The registry gives GPU rows only to devices of type GPU, which are GpuDevices.
inline GpuDevice* GpuDeviceOf(Device* device) { return static_cast<GpuDevice*>(device); }
inline GpuDevice* GpuDeviceOf(const KernelConstruction& c) { return GpuDeviceOf(c.device()); }
inline GpuDevice* GpuDeviceOf(const KernelContext* ctx) { return GpuDeviceOf(ctx->device()); }
inline GpuStream ComputeStream(const KernelContext* ctx) {
  return static_cast<GpuStream>(GpuDeviceOf(ctx)->compute_stream());
}

// Holds the device's launch mutex and makes the device current on this thread.
class LaunchScope {
 public:
  explicit LaunchScope(const KernelContext* ctx)
      : device_(GpuDeviceOf(ctx)), lock_(&device_->launch_mutex()) {}
  // Activate's status: a kernel returns it before launching anything.
  absl::Status Activate() const { return device_->Activate(); }
  GpuDevice* device() const { return device_; }
  GpuStream stream() const { return static_cast<GpuStream>(device_->compute_stream()); }

 private:
  GpuDevice* device_;
  absl::MutexLock lock_;
};

// A launcher's verdict as a status (the executor prefixes the node).
absl::Status ToStatus(const GpuStatus& status);

// At most kMaxGpuRank dimensions, else InvalidArgument naming `what`.
absl::StatusOr<GpuDims> ToGpuDims(const TensorShape& shape, const std::string& what);

// The value of input `i` when its producer is a Const node (in host memory): what a kernel
// reads at construction instead of a host-memory input.
absl::StatusOr<Tensor> ConstInputValue(const Node& node, int i);
// Integer values (int32 or int64) of a constant input, flattened.
absl::StatusOr<std::vector<int64_t>> ConstInputInts(const Node& node, int i);

// A registry constraint accepting nodes whose listed inputs come from Const nodes.
std::function<absl::Status(const Node&)> ConstInputs(std::initializer_list<int> inputs);

// Runs `launch(stream)` (returning a GpuStatus) under a LaunchScope: the device's launch mutex
// held and the device current on this thread, so a launch never interleaves with another
// thread's on the shared compute stream.
template <typename Launch>
absl::Status Enqueue(const KernelContext* ctx, Launch&& launch) {
  LaunchScope scope(ctx);
  if (absl::Status s = scope.Activate(); !s.ok()) return s;
  return ToStatus(launch(scope.stream()));
}

// Calls fn(T{}) with T the C++ type of `dtype` -- float, int32_t, int64_t and, with kWithBool,
// bool: the types the launchers are instantiated for -- and returns its status. Registry rows
// list only those types, so any other dtype is a registration mistake (InvalidArgument).
template <bool kWithBool, typename Fn>
absl::Status ForLauncherType(DataType dtype, Fn&& fn) {
  switch (dtype) {
    case DT_FLOAT:
      return fn(float{});
    case DT_INT32:
      return fn(int32_t{});
    case DT_INT64:
      return fn(int64_t{});
    case DT_BOOL:
      if constexpr (kWithBool) return fn(bool{});
      [[fallthrough]];
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "dtype ", DataTypeString(dtype), " is not one of float, int32, int64",
          kWithBool ? " and bool" : ""));
  }
}

// Kernel<T>(c, args...) for T the C++ type of input 0's dtype (float, int32 or int64). The
// registry rows list only those, so anything else is a registration mistake.
template <template <typename> class Kernel, typename... Args>
absl::StatusOr<std::unique_ptr<OpKernel>> MakeNumeric(const KernelConstruction& c,
                                                      const Args&... args) {
  const DataType dtype = BaseType(c.input_type(0));
  switch (dtype) {
    case DT_FLOAT:
      return std::unique_ptr<OpKernel>(new Kernel<float>(c, args...));
    case DT_INT32:
      return std::unique_ptr<OpKernel>(new Kernel<int32_t>(c, args...));
    case DT_INT64:
      return std::unique_ptr<OpKernel>(new Kernel<int64_t>(c, args...));
    default:
      return absl::InternalError(absl::StrCat("no GPU kernel for dtype ", DataTypeString(dtype),
                                              " (float, int32, int64)"));
  }
}

// A registry factory around MakeNumeric with fixed extra constructor arguments.
template <template <typename> class Kernel, typename... Args>
KernelFactory NumericFactory(Args... args) {
  return [args...](const KernelConstruction& c) { return MakeNumeric<Kernel>(c, args...); };
}

// Whether DataType `t` is one of the element types the launchers take (float, int32, int64),
// and with bool for the data-movement launchers.
inline bool IsLauncherType(DataType t) { return t == DT_FLOAT || t == DT_INT32 || t == DT_INT64; }

}  // namespace gpu

// Every GPU kernel Weir has (kernels/gpu/ops/registry.cc). Registers nothing in a build
// without CUDA.
void RegisterGpuKernels(KernelRegistry& registry);

namespace gpu {
// The families, one per file of kernels/gpu/ops/.
void RegisterGpuCoreKernels(KernelRegistry& registry);         // core_ops.cc
void RegisterGpuElementwiseKernels(KernelRegistry& registry);  // elementwise_ops.cc
void RegisterGpuMatMulKernels(KernelRegistry& registry);       // matmul_ops.cc
void RegisterGpuArrayKernels(KernelRegistry& registry);        // array_ops.cc
void RegisterGpuReductionKernels(KernelRegistry& registry);    // reduction_ops.cc
void RegisterGpuNnGradKernels(KernelRegistry& registry);       // nn_grad_ops.cc
// elementwise_ops.cc: 1 when `node` is a float unary op the GPU elementwise chain runs, 2 for
// a binary one, 0 otherwise (compiler/passes/elementwise_chain.h's arity).
int ElementwiseChainArity(const Node& node);
// conv_ops.cc: convolution, pooling, batch norm on cuDNN. Built only with cuDNN in the toolkit
// (WEIR_HAVE_CUDNN).
void RegisterGpuConvKernels(KernelRegistry& registry);
}  // namespace gpu

}  // namespace weir

#endif  // WEIR_KERNELS_GPU_OPS_GPU_OP_UTIL_H_
