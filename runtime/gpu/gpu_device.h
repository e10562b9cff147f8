// gpu_device.h - A CUDA GPU as a weir::Device: device memory (BFC over cudaMalloc), pinned
// host staging memory (BFC over cudaHostAlloc), a compute stream, host-to-device and
// device-to-host copy streams ordered with events, and a cuBLAS handle on the compute stream.
//
// This header compiles without CUDA (the CUDA handle types are only forward-declared), so code
// above it builds everywhere; without CUDA (WEIR_HAVE_CUDA undefined) GpuDeviceCount() is 0 and
// Create fails with Unavailable. With CUDA but no usable GPU (every development and CI machine
// here: "CUDA driver version is insufficient") the same holds: any error means "no GPU".
//
// Ordering contract, all asynchronous with respect to the host:
//   - Kernels run on compute_stream() (cuBLAS is bound to it).
//   - CopyHostToDevice runs on the host-to-device stream after all work already enqueued on the
//     compute stream, and work enqueued on the compute stream afterwards waits for the copy.
//   - CopyDeviceToHost runs on the device-to-host stream after all compute work enqueued so
//     far; later compute work waits for it too (so it may overwrite the source safely).
//   - CopyDeviceToDevice runs on the compute stream, and so do host copies of at most
//     kSmallCopyBytes: a feed or fetch of a few KiB costs one API call instead of four (two
//     event records and waits), which is most of a small model's step.
// So the streams behave like one ordered queue as seen by kernels, while copies in opposite
// directions can still overlap each other. Host memory given to a copy must stay valid until
// the copy completes (Synchronize, or an event recorded after it): for pageable host memory
// CUDA itself makes the call return only once the source was read (host-to-device) or the
// destination written (device-to-host); pinned memory from GpuHostAllocator() makes the copies
// truly asynchronous, and then the host memory must be kept until the copy is done:
// ReleaseAfterSync keeps a tensor until the next synchronization of the compute stream.
//
// Pinned host memory is one pool per process (GpuHostAllocator), as TensorFlow's gpu_host_bfc:
// tensors fetched from a GPU are allocated from it and may outlive the session and its device,
// so the pool is never destroyed.
#ifndef WEIR_RUNTIME_GPU_GPU_DEVICE_H_
#define WEIR_RUNTIME_GPU_GPU_DEVICE_H_

#include <cstddef>
#include <cstdint>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "runtime/device.h"
#include "runtime/gpu/bfc_allocator.h"
#include "runtime/tensor.h"

// The CUDA handle types, so this header needs no CUDA headers: cudaStream_t is CUstream_st*,
// cudaEvent_t is CUevent_st*, cublasHandle_t is cublasContext*.
struct CUstream_st;
struct CUevent_st;
struct CUgraphExec_st;
struct cublasContext;

namespace weir {

// Number of CUDA devices, or 0 when CUDA reports any error (no driver, driver too old, no
// device) or Weir was built without CUDA. Never fails; asked once per process.
int GpuDeviceCount();

// The process's pool of pinned (page-locked) host memory, a BFC over cudaHostAlloc; null when
// the process has no usable GPU. Made by the first call (at the latest when the first
// GpuDevice opens, whose GpuOptions::host_memory_limit_bytes then bounds it; 4 GiB when asked
// first) and never destroyed. An application can allocate its feeds here (like PyTorch's
// pin_memory()): Tensor(GpuHostAllocator(), DT_FLOAT, shape) is copied to the GPU without
// staging. Allocate returns nullptr when the limit is reached.
Allocator* GpuHostAllocator();
// True when `t` holds memory from GpuHostAllocator().
bool IsGpuHostTensor(const Tensor& t);

struct GpuOptions {
  // Device memory the allocator may take, as a fraction of the memory free when the device is
  // created (cudaMemGetInfo). In (0, 1].
  double memory_fraction = 0.9;
  // When > 0, the device memory limit in bytes instead of memory_fraction (capped at the
  // card's total memory).
  size_t memory_limit_bytes = 0;
  // First device region; later regions double (see bfc_allocator.h).
  size_t initial_region_bytes = size_t{64} << 20;
  // Pinned host memory for feeds and fetches, at most this much: the limit of the process's
  // pool (GpuHostAllocator), set by the first device opened in the process.
  size_t host_memory_limit_bytes = size_t{4} << 30;
  // Let cuBLAS use TF32 tensor cores for float32 GEMMs (about 7x faster on an H100, about 1e-3
  // relative error instead of 1e-6). Off by default, as in TensorFlow 1.x semantics.
  bool allow_tf32 = false;
  // cuBLAS and cuBLASLt workspace taken from the device allocator and bound to the handle, so
  // cuBLAS never allocates by itself (required for CUDA-graph capture). 32 MiB is NVIDIA's
  // advice for Hopper.
  size_t cublas_workspace_bytes = size_t{32} << 20;
};

// RAII CUDA event (timing disabled: only for ordering).
class GpuEvent {
 public:
  static absl::StatusOr<GpuEvent> Create();
  GpuEvent() = default;
  GpuEvent(GpuEvent&& other) noexcept : event_(other.event_) { other.event_ = nullptr; }
  GpuEvent& operator=(GpuEvent&& other) noexcept;
  GpuEvent(const GpuEvent&) = delete;
  GpuEvent& operator=(const GpuEvent&) = delete;
  ~GpuEvent();

  // Marks the point in `stream` reached by the work enqueued so far.
  absl::Status Record(CUstream_st* stream);
  // Makes later work on `stream` wait until this event's point was reached.
  absl::Status WaitOn(CUstream_st* stream) const;
  // True when the recorded point was reached.
  absl::StatusOr<bool> IsDone() const;
  // Blocks the host until the recorded point was reached.
  absl::Status Synchronize() const;
  CUevent_st* get() const { return event_; }

 private:
  CUevent_st* event_ = nullptr;
};

class GpuDevice;

// An instantiated CUDA graph captured from the device's compute stream (GpuDevice::EndCapture),
// with the device memory the captured work uses: blocks freed while capturing are held here
// and go back to the allocator only when the graph is destroyed, so a replay never writes
// memory that something else was given in the meantime.
class GpuGraph {
 public:
  ~GpuGraph();
  GpuGraph(const GpuGraph&) = delete;
  GpuGraph& operator=(const GpuGraph&) = delete;
  // Enqueues one replay on the compute stream (asynchronous, like a kernel launch).
  absl::Status Launch();
  size_t held_bytes() const { return held_bytes_; }

 private:
  friend class GpuDevice;
  GpuGraph(GpuDevice* device, CUgraphExec_st* exec, std::vector<void*> held, size_t held_bytes)
      : device_(device), exec_(exec), held_(std::move(held)), held_bytes_(held_bytes) {}
  GpuDevice* device_;
  CUgraphExec_st* exec_;
  std::vector<void*> held_;
  size_t held_bytes_;
};

class GpuDevice : public Device {
 public:
  enum class Stream { kCompute, kHostToDevice, kDeviceToHost };
  // Host copies up to this size go on the compute stream (see the ordering contract above).
  static constexpr size_t kSmallCopyBytes = size_t{1} << 20;

  // Opens CUDA device `ordinal` ("/device:GPU:<ordinal>"). Unavailable when there is no such
  // GPU (message says why: CUDA's error, or how many GPUs there are), InvalidArgument for bad
  // options, FailedPrecondition for a GPU this build has no code for (compute capability < 9.0).
  static absl::StatusOr<std::unique_ptr<GpuDevice>> Create(int ordinal,
                                                           const GpuOptions& options = {});
  // Waits for outstanding work, then releases the handle, streams and memory.
  ~GpuDevice() override;

  // Device memory: pointers must never be dereferenced on the host.
  Allocator* allocator() override;
  // Pinned (page-locked) host memory for feeds and fetches: GpuHostAllocator().
  Allocator* host_allocator();
  // GPU kernels are enqueued, not run by host threads.
  int intra_op_threads() const override { return 1; }

  int ordinal() const { return ordinal_; }
  const GpuOptions& options() const { return options_; }
  // e.g. "NVIDIA H100 80GB HBM3, compute capability 9.0, 79.1 GiB"
  const std::string& description() const { return description_; }
  BfcAllocator* device_bfc() { return device_bfc_.get(); }
  // The process's pinned pool (shared by every GpuDevice).
  BfcAllocator* host_bfc();
  BfcStats memory_stats() const { return device_bfc_->GetStats(); }

  CUstream_st* stream(Stream which) const;
  CUstream_st* compute_stream() const { return compute_stream_; }
  // The device's cuBLAS handle, bound to the compute stream with the workspace below; math
  // mode per GpuOptions::allow_tf32. The GEMM kernels use it (under launch_mutex()).
  cublasContext* cublas() const { return cublas_; }
  // Device memory of GpuOptions::cublas_workspace_bytes for cuBLAS and cuBLASLt calls on the
  // compute stream (they run one at a time there, so they can share it).
  void* cublas_workspace() const { return cublas_workspace_; }

  // Asynchronous copies ordered as the header comment says. bytes == 0 is a no-op; a null
  // pointer with bytes > 0 is InvalidArgument. CUDA errors name the call and CUDA's message.
  absl::Status CopyHostToDevice(const void* host, void* device, size_t bytes);
  absl::Status CopyDeviceToHost(const void* device, void* host, size_t bytes);
  absl::Status CopyDeviceToDevice(const void* src, void* dst, size_t bytes);

  // Makes later work on `waiter` wait for all work enqueued so far on `signaler`.
  absl::Status OrderStreams(Stream signaler, Stream waiter);
  // Runs `fn` on a CUDA-owned thread once all work enqueued so far on `which` is done. `fn`
  // must not call CUDA (CUDA forbids it in host callbacks); use it to complete asynchronous
  // kernels. If enqueueing fails, `fn` is not run and the error is returned.
  absl::Status EnqueueHostCallback(Stream which, absl::AnyInvocable<void() &&> fn);
  // Blocks until every stream is idle, then reports any asynchronous error of the device.
  absl::Status Synchronize();
  // Blocks until the work enqueued so far on `which` is done; reports its errors.
  absl::Status SynchronizeStream(Stream which);
  // Keeps `t` (the pinned host side of an asynchronous copy just enqueued) until the next
  // Synchronize or SynchronizeStream(kCompute) has returned, which waits for the copy: copies
  // join the compute stream (see the ordering contract). Every session step ends with one.
  void ReleaseAfterSync(Tensor t);

  // GPU kernels hold this while they enqueue work, so that launches from several host threads
  // (two partitions, two concurrent steps) reach the compute stream one whole kernel at a time
  // and the kernels' shared per-device state (cuBLAS plans) is used by one thread at a time.
  absl::Mutex& launch_mutex() ABSL_LOCK_RETURNED(launch_mu_) { return launch_mu_; }

  // State that code above the device keeps once per device (the GPU kernels' cuBLAS and
  // cuBLASLt handles and plans): `make` runs on the first call for `key`; the object lives
  // until the device is destroyed, after the streams went idle and before they are.
  template <typename T>
  T* GetOrCreateShared(absl::string_view key, absl::FunctionRef<std::unique_ptr<T>()> make) {
    absl::MutexLock lock(&shared_mu_);
    auto it = shared_.find(key);
    if (it == shared_.end()) {
      std::unique_ptr<T> made = make();
      if (made == nullptr) return nullptr;
      it = shared_.emplace(std::string(key), SharedState(made.release(), [](void* p) {
                             delete static_cast<T*>(p);
                           })).first;
    }
    return static_cast<T*>(it->second.get());
  }

  // Makes this device current on the calling thread (cudaSetDevice); every method above does
  // it itself, kernels launching on their own should call it first.
  absl::Status Activate() const;

  // ---- CUDA-graph capture (used by runtime/gpu_graph_runner.h) ----
  // Every session step that runs GPU work holds a step (BeginStep .. EndStep). A capture needs
  // the compute stream to itself: TryBeginExclusive succeeds only when the calling step is the
  // only one, and steps that begin while it holds exclusivity wait until EndExclusive.
  void BeginStep();
  void EndStep();
  bool TryBeginExclusive();
  void EndExclusive();
  // Starts capturing the compute stream (call with exclusivity): kernels and copies enqueued
  // from now on are recorded, not run, and device memory freed is held rather than reused.
  // GPU kernels that would wait for the stream must not (capturing() tells them).
  absl::Status BeginCapture();
  // Ends the capture and instantiates the graph, which owns the memory held meanwhile. On any
  // error (a kernel did something capture forbids) the memory goes back and the error says why.
  absl::StatusOr<std::unique_ptr<GpuGraph>> EndCapture();
  bool capturing() const { return capturing_.load(std::memory_order_acquire); }

 private:
  GpuDevice(int ordinal, const GpuOptions& options);
  absl::Status Init();
  GpuEvent& event(Stream which);

  const int ordinal_;
  const GpuOptions options_;
  std::string description_;
  std::unique_ptr<BfcAllocator> device_bfc_;
  class DeviceAllocator;  // a BFC, capture-aware (gpu_device.cc)
  std::unique_ptr<DeviceAllocator> device_allocator_;  // holds frees while capturing
  CUstream_st* compute_stream_ = nullptr;
  CUstream_st* h2d_stream_ = nullptr;
  CUstream_st* d2h_stream_ = nullptr;
  // The latest recorded point of each stream, re-recorded by OrderStreams. Sharing one event
  // per stream is safe: a stream only moves forward, so waiting on a later record than the
  // one meant only waits for more work.
  GpuEvent compute_event_;
  GpuEvent h2d_event_;
  GpuEvent d2h_event_;
  cublasContext* cublas_ = nullptr;
  void* cublas_workspace_ = nullptr;
  absl::Mutex launch_mu_;
  absl::Mutex deferred_mu_;
  std::vector<Tensor> deferred_ ABSL_GUARDED_BY(deferred_mu_);  // see ReleaseAfterSync
  std::atomic<bool> capturing_{false};
  absl::Mutex step_mu_;
  int active_steps_ ABSL_GUARDED_BY(step_mu_) = 0;
  bool exclusive_ ABSL_GUARDED_BY(step_mu_) = false;
  using SharedState = std::unique_ptr<void, void (*)(void*)>;
  absl::Mutex shared_mu_;
  absl::flat_hash_map<std::string, SharedState> shared_ ABSL_GUARDED_BY(shared_mu_);
};

}  // namespace weir

#endif  // WEIR_RUNTIME_GPU_GPU_DEVICE_H_
