// gpu_device.cc - The CUDA GPU device: discovery, memory, streams, events, cuBLAS, copies.
// Without CUDA (WEIR_HAVE_CUDA undefined) only the "no GPU" answers are compiled.
#include "runtime/gpu/gpu_device.h"

#include <algorithm>
#include <utility>

#include "absl/base/internal/raw_logging.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#ifdef WEIR_HAVE_CUDA
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "runtime/gpu/cuda_status.h"
#endif

namespace weir {

namespace {

std::string GpuName(int ordinal) { return absl::StrCat("/device:GPU:", ordinal); }

absl::Status ValidateCreateArgs(int ordinal, const GpuOptions& o) {
  if (ordinal < 0) {
    return absl::InvalidArgumentError(absl::StrCat("GPU ordinal must be >= 0, found ", ordinal));
  }
  if (o.memory_limit_bytes == 0 && !(o.memory_fraction > 0.0 && o.memory_fraction <= 1.0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "GpuOptions::memory_fraction must be in (0, 1], found ", o.memory_fraction));
  }
  if (o.initial_region_bytes == 0) {
    return absl::InvalidArgumentError("GpuOptions::initial_region_bytes must be > 0, found 0");
  }
  if (o.host_memory_limit_bytes == 0) {
    return absl::InvalidArgumentError("GpuOptions::host_memory_limit_bytes must be > 0, found 0");
  }
  return absl::OkStatus();
}

absl::Status CheckCopyArgs(const char* what, const void* src, const void* dst, size_t bytes) {
  if (bytes > 0 && (src == nullptr || dst == nullptr)) {
    return absl::InvalidArgumentError(absl::StrCat(what, " of ", bytes, " bytes with a null ",
                                                   src == nullptr ? "source" : "destination"));
  }
  return absl::OkStatus();
}

}  // namespace

// A BFC of the device as an Allocator. With `hold_frees` (device memory), while the device
// captures a CUDA graph, freed blocks are held instead of returned: the captured work will
// write them again at every replay, so nothing else may get them until the graph goes
// (GpuGraph's destructor returns them). Pinned host memory is not held: the graph's staging
// buffers stay alive with it (gpu_graph_runner.cc).
class GpuDevice::DeviceAllocator : public Allocator {
 public:
  DeviceAllocator(BfcAllocator* bfc, const std::atomic<bool>* capturing, bool hold_frees)
      : bfc_(bfc), capturing_(capturing), hold_frees_(hold_frees) {}
  std::string Name() const override { return bfc_->name(); }
  // While capturing, a failed request does not give free regions back (cudaFree,
  // cudaFreeHost) to retry: those are not allowed during a stream capture (cudaMalloc and
  // cudaHostAlloc are, in the relaxed mode used).
  void* Allocate(size_t bytes) override {
    return bfc_->AllocateRaw(bytes, !capturing_->load(std::memory_order_acquire));
  }
  void Deallocate(void* ptr, size_t bytes) override {
    if (hold_frees_ && ptr != nullptr && capturing_->load(std::memory_order_acquire)) {
      absl::MutexLock lock(&mu_);
      held_.push_back(ptr);
      held_bytes_ += bytes;
      return;
    }
    bfc_->DeallocateRaw(ptr);
  }
  // The blocks held since the last call.
  std::vector<void*> TakeHeld(size_t* bytes) {
    absl::MutexLock lock(&mu_);
    *bytes = held_bytes_;
    held_bytes_ = 0;
    return std::exchange(held_, {});
  }
  BfcAllocator* bfc() const { return bfc_; }

 private:
  BfcAllocator* bfc_;
  const std::atomic<bool>* capturing_;
  const bool hold_frees_;
  absl::Mutex mu_;
  std::vector<void*> held_ ABSL_GUARDED_BY(mu_);
  size_t held_bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

Allocator* GpuDevice::allocator() { return device_allocator_.get(); }
Allocator* GpuDevice::host_allocator() { return GpuHostAllocator(); }

bool IsGpuHostTensor(const Tensor& t) {
  Allocator* a = t.allocator();
  return a != nullptr && a == GpuHostAllocator();
}

void GpuDevice::ReleaseAfterSync(Tensor t) {
  absl::MutexLock lock(&deferred_mu_);
  deferred_.push_back(std::move(t));
}

void GpuDevice::BeginStep() {
  absl::MutexLock lock(&step_mu_);
  step_mu_.Await(absl::Condition(
      +[](bool* exclusive) { return !*exclusive; }, &exclusive_));
  ++active_steps_;
}

void GpuDevice::EndStep() {
  absl::MutexLock lock(&step_mu_);
  --active_steps_;
}

bool GpuDevice::TryBeginExclusive() {
  absl::MutexLock lock(&step_mu_);
  if (exclusive_ || active_steps_ != 1) return false;
  exclusive_ = true;
  return true;
}

void GpuDevice::EndExclusive() {
  absl::MutexLock lock(&step_mu_);
  exclusive_ = false;
}

#ifdef WEIR_HAVE_CUDA

namespace {

// Device memory for the BFC allocator. Failures return nullptr (the BFC tries smaller regions
// or reports out of memory); CUDA's last-error slot is cleared so the failure is not reported
// again by an unrelated later check.
class CudaDeviceSubAllocator : public SubAllocator {
 public:
  explicit CudaDeviceSubAllocator(int ordinal) : ordinal_(ordinal) {}
  void* Alloc(size_t bytes) override {
    void* ptr = nullptr;
    if (cudaSetDevice(ordinal_) != cudaSuccess || cudaMalloc(&ptr, bytes) != cudaSuccess) {
      (void)cudaGetLastError();
      return nullptr;
    }
    return ptr;
  }
  void Free(void* ptr, size_t bytes) override {
    cudaError_t error = cudaSetDevice(ordinal_);
    if (error == cudaSuccess) error = cudaFree(ptr);
    if (error != cudaSuccess) {
      (void)cudaGetLastError();
      ABSL_RAW_LOG(ERROR, "/device:GPU:%d: cudaFree(%zu bytes) failed: %s", ordinal_, bytes,
                   cudaGetErrorString(error));
    }
  }
  std::string Name() const override { return "gpu"; }

 private:
  int ordinal_;
};

// Page-locked host memory, so copies from and to it run asynchronously (DMA, no staging).
class CudaPinnedHostSubAllocator : public SubAllocator {
 public:
  void* Alloc(size_t bytes) override {
    void* ptr = nullptr;
    // Portable: pinned for every CUDA context, not only the current device's.
    if (cudaHostAlloc(&ptr, bytes, cudaHostAllocPortable) != cudaSuccess) {
      (void)cudaGetLastError();
      return nullptr;
    }
    return ptr;
  }
  void Free(void* ptr, size_t bytes) override {
    cudaError_t error = cudaFreeHost(ptr);
    if (error != cudaSuccess) {
      (void)cudaGetLastError();
      ABSL_RAW_LOG(ERROR, "cudaFreeHost(%zu bytes) failed: %s", bytes, cudaGetErrorString(error));
    }
  }
  std::string Name() const override { return "pinned host"; }
};

// The process's pinned pool: its limit is set by the first GpuDevice opened (or the default
// when GpuHostAllocator is asked first).
size_t first_host_limit_bytes = 0;
ABSL_CONST_INIT absl::Mutex host_pool_mu(absl::kConstInit);

// Never gives regions back (cudaFreeHost), not even to retry a failing request: a CUDA-graph
// capture may be running on some device, where that call is not allowed.
class PinnedHostPool : public Allocator {
 public:
  explicit PinnedHostPool(size_t limit_bytes)
      : bfc_(std::make_unique<CudaPinnedHostSubAllocator>(), PoolOptions(limit_bytes),
             "gpu_host_bfc") {}
  std::string Name() const override { return bfc_.name(); }
  void* Allocate(size_t bytes) override {
    return bfc_.AllocateRaw(bytes, /*may_release_regions=*/false);
  }
  void Deallocate(void* ptr, size_t) override { bfc_.DeallocateRaw(ptr); }
  BfcAllocator* bfc() { return &bfc_; }

 private:
  static BfcAllocator::Options PoolOptions(size_t limit_bytes) {
    BfcAllocator::Options options;
    options.memory_limit = limit_bytes;
    options.initial_region_bytes = std::min<size_t>(limit_bytes, size_t{16} << 20);
    return options;
  }
  BfcAllocator bfc_;
};

absl::StatusOr<int> QueryDeviceCount() {
  int count = 0;
  absl::Status status = CudaStatus(cudaGetDeviceCount(&count), "cudaGetDeviceCount");
  if (!status.ok()) return absl::UnavailableError(absl::StrCat("no GPU: ", status.message()));
  return count;
}

void HostCallbackTrampoline(void* arg) {
  auto* fn = static_cast<absl::AnyInvocable<void() &&>*>(arg);
  std::move (*fn)();
  delete fn;
}

}  // namespace

int GpuDeviceCount() {
  // Asked once per process: every Session asks, and the answer does not change.
  static const int count = [] {
    absl::StatusOr<int> queried = QueryDeviceCount();
    return queried.ok() && *queried > 0 ? *queried : 0;
  }();
  return count;
}

Allocator* GpuHostAllocator() {
  // Never destroyed: fetched tensors in it may outlive every session, even main().
  static PinnedHostPool* const pool = []() -> PinnedHostPool* {
    if (GpuDeviceCount() == 0) return nullptr;
    absl::MutexLock lock(&host_pool_mu);
    return new PinnedHostPool(first_host_limit_bytes > 0 ? first_host_limit_bytes
                                                         : GpuOptions().host_memory_limit_bytes);
  }();
  return pool;
}

BfcAllocator* GpuDevice::host_bfc() {
  auto* pool = static_cast<PinnedHostPool*>(GpuHostAllocator());
  return pool != nullptr ? pool->bfc() : nullptr;
}

// ---- GpuEvent ----

absl::StatusOr<GpuEvent> GpuEvent::Create() {
  GpuEvent event;
  cudaEvent_t e = nullptr;
  absl::Status status = CudaStatus(cudaEventCreateWithFlags(&e, cudaEventDisableTiming),
                                   "cudaEventCreateWithFlags");
  if (!status.ok()) return status;
  event.event_ = e;
  return event;
}

GpuEvent& GpuEvent::operator=(GpuEvent&& other) noexcept {
  if (this != &other) {
    if (event_ != nullptr) (void)cudaEventDestroy(event_);
    event_ = other.event_;
    other.event_ = nullptr;
  }
  return *this;
}

GpuEvent::~GpuEvent() {
  if (event_ != nullptr) (void)cudaEventDestroy(event_);
}

absl::Status GpuEvent::Record(CUstream_st* stream) {
  if (event_ == nullptr) return absl::FailedPreconditionError("Record on an empty GpuEvent");
  return CudaStatus(cudaEventRecord(event_, stream), "cudaEventRecord");
}

absl::Status GpuEvent::WaitOn(CUstream_st* stream) const {
  if (event_ == nullptr) return absl::FailedPreconditionError("WaitOn on an empty GpuEvent");
  return CudaStatus(cudaStreamWaitEvent(stream, event_, 0), "cudaStreamWaitEvent");
}

absl::StatusOr<bool> GpuEvent::IsDone() const {
  if (event_ == nullptr) return absl::FailedPreconditionError("IsDone on an empty GpuEvent");
  cudaError_t error = cudaEventQuery(event_);
  if (error == cudaErrorNotReady) return false;
  absl::Status status = CudaStatus(error, "cudaEventQuery");
  if (!status.ok()) return status;
  return true;
}

absl::Status GpuEvent::Synchronize() const {
  if (event_ == nullptr) return absl::FailedPreconditionError("Synchronize on an empty GpuEvent");
  return CudaStatus(cudaEventSynchronize(event_), "cudaEventSynchronize");
}

// ---- GpuDevice ----

GpuDevice::GpuDevice(int ordinal, const GpuOptions& options)
    : Device(GpuName(ordinal), kDeviceGpu), ordinal_(ordinal), options_(options) {}

absl::StatusOr<std::unique_ptr<GpuDevice>> GpuDevice::Create(int ordinal,
                                                             const GpuOptions& options) {
  if (absl::Status s = ValidateCreateArgs(ordinal, options); !s.ok()) return s;
  absl::StatusOr<int> count = QueryDeviceCount();
  if (!count.ok()) return count.status();
  if (ordinal >= *count) {
    return absl::UnavailableError(absl::StrCat(GpuName(ordinal), " does not exist: this machine has ",
                                               *count, " GPU", *count == 1 ? "" : "s"));
  }
  std::unique_ptr<GpuDevice> device(new GpuDevice(ordinal, options));
  if (absl::Status s = device->Init(); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat(device->name(), ": ", s.message()));
  }
  return device;
}

absl::Status GpuDevice::Activate() const {
  return CudaStatus(cudaSetDevice(ordinal_), absl::StrCat("cudaSetDevice(", ordinal_, ")"));
}

absl::Status GpuDevice::Init() {
  if (absl::Status s = Activate(); !s.ok()) return s;
  int major = 0, minor = 0;
  if (absl::Status s = CudaStatus(
          cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, ordinal_),
          "cudaDeviceGetAttribute(compute capability major)");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CudaStatus(
          cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, ordinal_),
          "cudaDeviceGetAttribute(compute capability minor)");
      !s.ok()) {
    return s;
  }
  cudaDeviceProp prop;
  if (absl::Status s = CudaStatus(cudaGetDeviceProperties(&prop, ordinal_),
                                  "cudaGetDeviceProperties");
      !s.ok()) {
    return s;
  }
  // Kernels are compiled for sm_90 with compute_90 PTX (third_party/cuda/cuda.bzl): older GPUs
  // cannot run them.
  if (major < 9) {
    return absl::FailedPreconditionError(absl::StrCat(
        prop.name, " has compute capability ", major, ".", minor,
        "; this build of Weir has GPU code for 9.0 and newer only (sm_90)"));
  }
  size_t free_bytes = 0, total_bytes = 0;
  if (absl::Status s = CudaStatus(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
      !s.ok()) {
    return s;
  }
  description_ = absl::StrFormat("%s, compute capability %d.%d, %.1f GiB (%.1f GiB free)",
                                 prop.name, major, minor, total_bytes / double(1 << 30),
                                 free_bytes / double(1 << 30));

  size_t limit = options_.memory_limit_bytes > 0
                     ? std::min(options_.memory_limit_bytes, total_bytes)
                     : static_cast<size_t>(static_cast<double>(free_bytes) *
                                           options_.memory_fraction);
  BfcAllocator::Options device_options;
  device_options.memory_limit = limit;
  device_options.initial_region_bytes = options_.initial_region_bytes;
  device_bfc_ = std::make_unique<BfcAllocator>(std::make_unique<CudaDeviceSubAllocator>(ordinal_),
                                               device_options, "gpu_bfc");
  {
    absl::MutexLock lock(&host_pool_mu);
    if (first_host_limit_bytes == 0) first_host_limit_bytes = options_.host_memory_limit_bytes;
  }
  if (GpuHostAllocator() == nullptr) {
    return absl::InternalError("no pinned host memory pool although a GPU was found");
  }
  device_allocator_ =
      std::make_unique<DeviceAllocator>(device_bfc_.get(), &capturing_, /*hold_frees=*/true);

  // Non-blocking: no implicit synchronization with the legacy default stream, which other
  // libraries in the process may use.
  for (auto [stream, label] : {std::pair{&compute_stream_, "compute"},
                               std::pair{&h2d_stream_, "host-to-device"},
                               std::pair{&d2h_stream_, "device-to-host"}}) {
    cudaStream_t s = nullptr;
    if (absl::Status st = CudaStatus(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking),
                                     absl::StrCat("cudaStreamCreateWithFlags (", label, ")"));
        !st.ok()) {
      return st;
    }
    *stream = s;
  }
  for (GpuEvent* e : {&compute_event_, &h2d_event_, &d2h_event_}) {
    absl::StatusOr<GpuEvent> created = GpuEvent::Create();
    if (!created.ok()) return created.status();
    *e = std::move(*created);
  }

  cublasHandle_t handle = nullptr;
  if (absl::Status s = CublasStatus(cublasCreate(&handle), "cublasCreate"); !s.ok()) return s;
  cublas_ = handle;
  if (absl::Status s = CublasStatus(cublasSetStream(handle, compute_stream_), "cublasSetStream");
      !s.ok()) {
    return s;
  }
  // CUBLAS_DEFAULT_MATH never lowers float32 to TF32; TF32 only when asked for.
  cublasMath_t math = options_.allow_tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH;
  if (absl::Status s = CublasStatus(cublasSetMathMode(handle, math), "cublasSetMathMode");
      !s.ok()) {
    return s;
  }
  if (options_.cublas_workspace_bytes > 0) {
    cublas_workspace_ = device_bfc_->AllocateRaw(options_.cublas_workspace_bytes);
    if (cublas_workspace_ == nullptr) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "cannot allocate the cuBLAS workspace of ", options_.cublas_workspace_bytes,
          " bytes (device memory limit ", device_bfc_->memory_limit(), ")"));
    }
    if (absl::Status s = CublasStatus(
            cublasSetWorkspace(handle, cublas_workspace_, options_.cublas_workspace_bytes),
            "cublasSetWorkspace");
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

GpuDevice::~GpuDevice() {
  if (cudaSetDevice(ordinal_) != cudaSuccess) (void)cudaGetLastError();
  if (compute_stream_ != nullptr || h2d_stream_ != nullptr || d2h_stream_ != nullptr) {
    if (absl::Status s = Synchronize(); !s.ok()) {
      ABSL_RAW_LOG(ERROR, "%s: %s", name().c_str(), std::string(s.message()).c_str());
    }
  }
  {
    // Kernels' shared state (cuBLAS handles bound to the compute stream) goes first.
    absl::MutexLock lock(&shared_mu_);
    shared_.clear();
  }
  if (cublas_ != nullptr) (void)cublasDestroy(cublas_);
  if (cublas_workspace_ != nullptr) device_bfc_->DeallocateRaw(cublas_workspace_);
  for (CUstream_st* s : {compute_stream_, h2d_stream_, d2h_stream_}) {
    if (s != nullptr) (void)cudaStreamDestroy(s);
  }
  (void)cudaGetLastError();
  // Events, then the allocators (cudaFree, cudaFreeHost) go with the members.
}

CUstream_st* GpuDevice::stream(Stream which) const {
  switch (which) {
    case Stream::kCompute:
      return compute_stream_;
    case Stream::kHostToDevice:
      return h2d_stream_;
    case Stream::kDeviceToHost:
      return d2h_stream_;
  }
  return compute_stream_;
}

GpuEvent& GpuDevice::event(Stream which) {
  switch (which) {
    case Stream::kCompute:
      return compute_event_;
    case Stream::kHostToDevice:
      return h2d_event_;
    case Stream::kDeviceToHost:
      return d2h_event_;
  }
  return compute_event_;
}

absl::Status GpuDevice::OrderStreams(Stream signaler, Stream waiter) {
  if (signaler == waiter) return absl::OkStatus();
  GpuEvent& e = event(signaler);
  if (absl::Status s = e.Record(stream(signaler)); !s.ok()) return s;
  return e.WaitOn(stream(waiter));
}

absl::Status GpuDevice::CopyHostToDevice(const void* host, void* device, size_t bytes) {
  if (absl::Status s = CheckCopyArgs("CopyHostToDevice", host, device, bytes); !s.ok()) return s;
  if (bytes == 0) return absl::OkStatus();
  if (absl::Status s = Activate(); !s.ok()) return s;
  if (bytes <= kSmallCopyBytes) {
    return CudaStatus(cudaMemcpyAsync(device, host, bytes, cudaMemcpyHostToDevice, compute_stream_),
                      absl::StrCat(name(), ": cudaMemcpyAsync(host to device, ", bytes, " bytes)"));
  }
  if (absl::Status s = OrderStreams(Stream::kCompute, Stream::kHostToDevice); !s.ok()) return s;
  absl::Status copied = CudaStatus(
      cudaMemcpyAsync(device, host, bytes, cudaMemcpyHostToDevice, h2d_stream_),
      absl::StrCat(name(), ": cudaMemcpyAsync(host to device, ", bytes, " bytes)"));
  // Join back even when the copy failed: while capturing, the wait above forked the copy
  // stream into the capture, and a fork never joined leaves it capturing after EndCapture.
  absl::Status joined = OrderStreams(Stream::kHostToDevice, Stream::kCompute);
  return copied.ok() ? joined : copied;
}

absl::Status GpuDevice::CopyDeviceToHost(const void* device, void* host, size_t bytes) {
  if (absl::Status s = CheckCopyArgs("CopyDeviceToHost", device, host, bytes); !s.ok()) return s;
  if (bytes == 0) return absl::OkStatus();
  if (absl::Status s = Activate(); !s.ok()) return s;
  if (bytes <= kSmallCopyBytes) {
    return CudaStatus(cudaMemcpyAsync(host, device, bytes, cudaMemcpyDeviceToHost, compute_stream_),
                      absl::StrCat(name(), ": cudaMemcpyAsync(device to host, ", bytes, " bytes)"));
  }
  if (absl::Status s = OrderStreams(Stream::kCompute, Stream::kDeviceToHost); !s.ok()) return s;
  absl::Status copied = CudaStatus(
      cudaMemcpyAsync(host, device, bytes, cudaMemcpyDeviceToHost, d2h_stream_),
      absl::StrCat(name(), ": cudaMemcpyAsync(device to host, ", bytes, " bytes)"));
  // Join back even when the copy failed (see CopyHostToDevice).
  absl::Status joined = OrderStreams(Stream::kDeviceToHost, Stream::kCompute);
  return copied.ok() ? joined : copied;
}

absl::Status GpuDevice::CopyDeviceToDevice(const void* src, void* dst, size_t bytes) {
  if (absl::Status s = CheckCopyArgs("CopyDeviceToDevice", src, dst, bytes); !s.ok()) return s;
  if (bytes == 0) return absl::OkStatus();
  if (absl::Status s = Activate(); !s.ok()) return s;
  return CudaStatus(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, compute_stream_),
                    absl::StrCat(name(), ": cudaMemcpyAsync(device to device, ", bytes, " bytes)"));
}

absl::Status GpuDevice::EnqueueHostCallback(Stream which, absl::AnyInvocable<void() &&> fn) {
  if (absl::Status s = Activate(); !s.ok()) return s;
  auto* heap_fn = new absl::AnyInvocable<void() &&>(std::move(fn));
  absl::Status s = CudaStatus(cudaLaunchHostFunc(stream(which), HostCallbackTrampoline, heap_fn),
                              absl::StrCat(name(), ": cudaLaunchHostFunc"));
  if (!s.ok()) delete heap_fn;
  return s;
}

absl::Status GpuDevice::Synchronize() {
  if (absl::Status s = Activate(); !s.ok()) return s;
  // Taken before waiting: everything kept so far had its copy enqueued before this wait.
  std::vector<Tensor> release;
  {
    absl::MutexLock lock(&deferred_mu_);
    release.swap(deferred_);
  }
  absl::Status first;
  for (auto [s, label] : {std::pair{compute_stream_, "compute"},
                          std::pair{h2d_stream_, "host-to-device"},
                          std::pair{d2h_stream_, "device-to-host"}}) {
    if (s == nullptr) continue;
    first.Update(CudaStatus(cudaStreamSynchronize(s),
                            absl::StrCat(name(), ": cudaStreamSynchronize(", label, " stream)")));
  }
  // A kernel's launch or execution error that no stream call reported yet.
  first.Update(CudaStatus(cudaPeekAtLastError(), absl::StrCat(name(), ": after synchronizing")));
  return first;
}

absl::Status GpuDevice::SynchronizeStream(Stream which) {
  if (absl::Status s = Activate(); !s.ok()) return s;
  // The compute stream waits for every copy enqueued before (ordering contract), so what
  // ReleaseAfterSync kept until now can go after this wait. Taken before waiting.
  std::vector<Tensor> release;
  if (which == Stream::kCompute) {
    absl::MutexLock lock(&deferred_mu_);
    release.swap(deferred_);
  }
  return CudaStatus(cudaStreamSynchronize(stream(which)),
                    absl::StrCat(name(), ": cudaStreamSynchronize"));
}

absl::Status GpuDevice::BeginCapture() {
  if (absl::Status s = Activate(); !s.ok()) return s;
  absl::MutexLock lock(&launch_mu_);
  // Relaxed: kernels of the captured step enqueue from whichever thread runs them (a _Recv
  // completes on its sender's thread).
  if (absl::Status s = CudaStatus(
          cudaStreamBeginCapture(compute_stream_, cudaStreamCaptureModeRelaxed),
          absl::StrCat(name(), ": cudaStreamBeginCapture"));
      !s.ok()) {
    return s;
  }
  capturing_.store(true, std::memory_order_release);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<GpuGraph>> GpuDevice::EndCapture() {
  cudaGraph_t graph = nullptr;
  absl::Status ended;
  {
    absl::MutexLock lock(&launch_mu_);
    if (absl::Status s = Activate(); !s.ok()) ended = s;
    ended.Update(CudaStatus(cudaStreamEndCapture(compute_stream_, &graph),
                            absl::StrCat(name(), ": cudaStreamEndCapture")));
    capturing_.store(false, std::memory_order_release);
  }
  size_t held_bytes = 0;
  std::vector<void*> held = device_allocator_->TakeHeld(&held_bytes);
  cudaGraphExec_t exec = nullptr;
  if (ended.ok() && graph != nullptr) {
    ended = CudaStatus(cudaGraphInstantiate(&exec, graph, 0),
                       absl::StrCat(name(), ": cudaGraphInstantiate"));
  } else if (ended.ok()) {
    ended = absl::InternalError(absl::StrCat(name(), ": the capture produced no graph"));
  }
  if (graph != nullptr) (void)cudaGraphDestroy(graph);
  if (!ended.ok()) {
    // Nothing captured ever ran; the memory can go back at once.
    (void)cudaGetLastError();
    for (void* p : held) device_bfc_->DeallocateRaw(p);
    return ended;
  }
  return std::unique_ptr<GpuGraph>(new GpuGraph(this, exec, std::move(held), held_bytes));
}

absl::Status GpuGraph::Launch() {
  if (absl::Status s = device_->Activate(); !s.ok()) return s;
  absl::MutexLock lock(&device_->launch_mutex());
  return CudaStatus(cudaGraphLaunch(exec_, device_->compute_stream()),
                    absl::StrCat(device_->name(), ": cudaGraphLaunch"));
}

GpuGraph::~GpuGraph() {
  // A replay may still run: the held memory goes back only after the stream is idle. Under
  // the launch mutex, so that no capture begins meanwhile: a plan may be dropped (LRU, Close)
  // while another step captures, and cudaStreamSynchronize on a capturing stream is illegal
  // (it would invalidate that capture). While a capture runs, no replay can be in flight: the
  // capturing step holds the device alone and synchronized the stream before it began.
  {
    absl::MutexLock lock(&device_->launch_mutex());
    if (!device_->capturing()) {
      if (absl::Status s = device_->SynchronizeStream(GpuDevice::Stream::kCompute); !s.ok()) {
        ABSL_RAW_LOG(ERROR, "%s", std::string(s.message()).c_str());
      }
    }
  }
  if (exec_ != nullptr) (void)cudaGraphExecDestroy(exec_);
  for (void* p : held_) device_->device_bfc()->DeallocateRaw(p);
}

#else  // !WEIR_HAVE_CUDA: no GPU code in this build.

int GpuDeviceCount() { return 0; }
Allocator* GpuHostAllocator() { return nullptr; }
BfcAllocator* GpuDevice::host_bfc() { return nullptr; }

namespace {
absl::Status NoCuda() {
  return absl::UnavailableError("no GPU: Weir was built without CUDA (no toolkit at build time)");
}
}  // namespace

absl::StatusOr<GpuEvent> GpuEvent::Create() { return NoCuda(); }
GpuEvent& GpuEvent::operator=(GpuEvent&& other) noexcept {
  event_ = other.event_;
  other.event_ = nullptr;
  return *this;
}
GpuEvent::~GpuEvent() = default;
absl::Status GpuEvent::Record(CUstream_st*) { return NoCuda(); }
absl::Status GpuEvent::WaitOn(CUstream_st*) const { return NoCuda(); }
absl::StatusOr<bool> GpuEvent::IsDone() const { return NoCuda(); }
absl::Status GpuEvent::Synchronize() const { return NoCuda(); }

GpuDevice::GpuDevice(int ordinal, const GpuOptions& options)
    : Device(GpuName(ordinal), kDeviceGpu), ordinal_(ordinal), options_(options) {}
absl::StatusOr<std::unique_ptr<GpuDevice>> GpuDevice::Create(int ordinal,
                                                             const GpuOptions& options) {
  if (absl::Status s = ValidateCreateArgs(ordinal, options); !s.ok()) return s;
  return NoCuda();
}
GpuDevice::~GpuDevice() = default;
absl::Status GpuDevice::Init() { return NoCuda(); }
absl::Status GpuDevice::Activate() const { return NoCuda(); }
CUstream_st* GpuDevice::stream(Stream) const { return nullptr; }
GpuEvent& GpuDevice::event(Stream) { return compute_event_; }
absl::Status GpuDevice::OrderStreams(Stream, Stream) { return NoCuda(); }
absl::Status GpuDevice::CopyHostToDevice(const void* host, void* device, size_t bytes) {
  if (absl::Status s = CheckCopyArgs("CopyHostToDevice", host, device, bytes); !s.ok()) return s;
  return NoCuda();
}
absl::Status GpuDevice::CopyDeviceToHost(const void* device, void* host, size_t bytes) {
  if (absl::Status s = CheckCopyArgs("CopyDeviceToHost", device, host, bytes); !s.ok()) return s;
  return NoCuda();
}
absl::Status GpuDevice::CopyDeviceToDevice(const void* src, void* dst, size_t bytes) {
  if (absl::Status s = CheckCopyArgs("CopyDeviceToDevice", src, dst, bytes); !s.ok()) return s;
  return NoCuda();
}
absl::Status GpuDevice::EnqueueHostCallback(Stream, absl::AnyInvocable<void() &&>) {
  return NoCuda();
}
absl::Status GpuDevice::Synchronize() { return NoCuda(); }
absl::Status GpuDevice::SynchronizeStream(Stream) { return NoCuda(); }
absl::Status GpuDevice::BeginCapture() { return NoCuda(); }
absl::StatusOr<std::unique_ptr<GpuGraph>> GpuDevice::EndCapture() { return NoCuda(); }
absl::Status GpuGraph::Launch() { return NoCuda(); }
GpuGraph::~GpuGraph() = default;

#endif  // WEIR_HAVE_CUDA

}  // namespace weir
