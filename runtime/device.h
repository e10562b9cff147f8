// device.h - A place kernels run: its name, type, allocator and intra-op parallelism.
// Placement asks SupportsOp; the executor asks for an allocator.
#ifndef WEIR_RUNTIME_DEVICE_H_
#define WEIR_RUNTIME_DEVICE_H_

#include <atomic>
#include <memory>
#include <string>

#include "runtime/allocator.h"
#include "runtime/resource_mgr.h"
#include "runtime/thread_pool.h"

namespace weir {

inline constexpr char kDeviceCpu[] = "CPU";
inline constexpr char kDeviceGpu[] = "GPU";

class Device {
 public:
  Device(std::string name, std::string type) : name_(std::move(name)), type_(std::move(type)) {}
  virtual ~Device() = default;

  // Full TensorFlow-style name, e.g. "/device:CPU:0".
  const std::string& name() const { return name_; }
  // "CPU" or "GPU": the column of the kernel registry this device uses.
  const std::string& type() const { return type_; }
  virtual Allocator* allocator() = 0;
  // Threads a single kernel may use (oneDNN's and Eigen-style parallel loops); >= 1.
  virtual int intra_op_threads() const = 0;
  // Variables and other state kept across steps; one per device per session.
  ResourceMgr* resource_manager() { return &resource_mgr_; }

  // Expensive kernels running on this device right now, over all threads and steps. A kernel
  // that parallelizes internally divides intra_op_threads() by it, so that two inter-op
  // threads (or two concurrent Runs) each running a GEMM do not each start a full team and
  // oversubscribe the cores. The executor counts with KernelScope.
  int running_kernels() const { return running_kernels_.load(std::memory_order_relaxed); }
  // The kernels running on the device with the calling thread's own one counted: a kernel the
  // executor runs inline as cheap has no KernelScope, and without counting itself it would take
  // the whole device while another thread runs a GEMM (the wide benchmark at 2 threads lost 25%
  // that way once Tanh split its loop).
  int running_kernels_with_caller() const {
    return running_kernels() + (KernelScope::ActiveOnThisThread() ? 0 : 1);
  }
  class KernelScope {
   public:
    explicit KernelScope(Device* device) : device_(device), outer_(Active()) {
      device_->running_kernels_.fetch_add(1, std::memory_order_relaxed);
      Active() = true;
    }
    ~KernelScope() {
      Active() = outer_;
      device_->running_kernels_.fetch_sub(1, std::memory_order_relaxed);
    }
    KernelScope(const KernelScope&) = delete;
    KernelScope& operator=(const KernelScope&) = delete;
    // Whether the calling thread is inside a KernelScope (of any device).
    static bool ActiveOnThisThread() { return Active(); }

   private:
    static bool& Active() {
      thread_local bool active = false;
      return active;
    }
    Device* device_;
    bool outer_;
  };

 private:
  std::string name_;
  std::string type_;
  ResourceMgr resource_mgr_;
  std::atomic<int> running_kernels_{0};
};

class CpuDevice : public Device {
 public:
  // `intra_op_threads` <= 0 means one per core. `index` names it "/device:CPU:<index>".
  explicit CpuDevice(int intra_op_threads = 0, int index = 0);
  Allocator* allocator() override { return CpuAllocator::Get(); }
  int intra_op_threads() const override { return intra_op_threads_; }

 private:
  int intra_op_threads_;
};

}  // namespace weir

#endif  // WEIR_RUNTIME_DEVICE_H_
