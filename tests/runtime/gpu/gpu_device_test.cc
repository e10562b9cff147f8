// gpu_device_test.cc - Tests runtime/gpu/gpu_device: creation, copies in every direction and
// their ordering with compute work, events and host callbacks, the memory limit and
// out-of-memory recovery, statistics. Without a GPU every GPU case says "SKIPPED: no GPU"
// (tools/run_tests.sh counts them) and only the "no GPU" answers are checked.
#include "runtime/gpu/gpu_device.h"

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "runtime/tensor.h"

#ifdef WEIR_HAVE_CUDA
#include <cublas_v2.h>
#include <cuda_runtime.h>
#endif

namespace weir {
namespace {

constexpr size_t kMiB = 1024 * 1024;

#define SKIP_WITHOUT_GPU()              \
  do {                                  \
    if (GpuDeviceCount() == 0) {        \
      WARN("SKIPPED: no GPU");          \
      return;                           \
    }                                   \
  } while (0)

std::unique_ptr<GpuDevice> MakeDevice(const GpuOptions& options = {}) {
  absl::StatusOr<std::unique_ptr<GpuDevice>> device = GpuDevice::Create(0, options);
  INFO(device.status().ToString());
  REQUIRE(device.ok());
  return std::move(*device);
}

std::vector<uint8_t> RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

// ---- Everywhere ----

TEST_CASE("GpuDevice: bad options and ordinals are errors, not crashes") {
  GpuOptions bad;
  bad.memory_fraction = 1.5;
  absl::StatusOr<std::unique_ptr<GpuDevice>> d = GpuDevice::Create(0, bad);
  CHECK(d.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(d.status().message()).find("memory_fraction") != std::string::npos);
  bad = GpuOptions();
  bad.initial_region_bytes = 0;
  CHECK(GpuDevice::Create(0, bad).status().code() == absl::StatusCode::kInvalidArgument);
  // Ordinals past the last GPU (or any ordinal without a GPU) are Unavailable.
  absl::StatusOr<std::unique_ptr<GpuDevice>> past = GpuDevice::Create(GpuDeviceCount());
  CHECK(past.status().code() == absl::StatusCode::kUnavailable);
  CHECK(GpuDevice::Create(-1).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("GpuDevice: without a GPU Create says so") {
  if (GpuDeviceCount() > 0) return;  // only meaningful without one
  absl::StatusOr<std::unique_ptr<GpuDevice>> d = GpuDevice::Create(0);
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().code() == absl::StatusCode::kUnavailable);
  CHECK(std::string(d.status().message()).find("no GPU") != std::string::npos);
}

TEST_CASE("GpuDevice: without a GPU there is no pinned pool and no tensor is pinned") {
  if (GpuDeviceCount() > 0) return;  // only meaningful without one
  CHECK(GpuHostAllocator() == nullptr);
  CHECK_FALSE(IsGpuHostTensor(Tensor(DT_FLOAT, TensorShape({4}))));
  CHECK_FALSE(IsGpuHostTensor(Tensor()));
}

// ---- With a GPU ----

TEST_CASE("GpuDevice: creation, names, streams, cuBLAS math mode") {
  SKIP_WITHOUT_GPU();
  std::unique_ptr<GpuDevice> device = MakeDevice();
  CHECK(device->name() == "/device:GPU:0");
  CHECK(device->type() == kDeviceGpu);
  CHECK(device->intra_op_threads() == 1);
  CHECK(device->ordinal() == 0);
  CHECK_FALSE(device->description().empty());
  WARN("GPU: " << device->description());
  CHECK(device->compute_stream() != nullptr);
  CHECK(device->stream(GpuDevice::Stream::kHostToDevice) != nullptr);
  CHECK(device->stream(GpuDevice::Stream::kDeviceToHost) != nullptr);
  CHECK(device->stream(GpuDevice::Stream::kHostToDevice) != device->compute_stream());
  CHECK(device->stream(GpuDevice::Stream::kDeviceToHost) !=
        device->stream(GpuDevice::Stream::kHostToDevice));
  REQUIRE(device->cublas() != nullptr);
  BfcStats stats = device->memory_stats();
  CHECK(stats.bytes_limit > 0);
  CHECK(stats.bytes_in_use == int64_t{32 * kMiB});  // the cuBLAS workspace
  CHECK(device->Synchronize().ok());
#ifdef WEIR_HAVE_CUDA
  cublasMath_t mode;
  REQUIRE(cublasGetMathMode(device->cublas(), &mode) == CUBLAS_STATUS_SUCCESS);
  CHECK(mode == CUBLAS_DEFAULT_MATH);
  cudaStream_t bound = nullptr;
  REQUIRE(cublasGetStream(device->cublas(), &bound) == CUBLAS_STATUS_SUCCESS);
  CHECK(bound == device->compute_stream());
  GpuOptions tf32;
  tf32.allow_tf32 = true;
  std::unique_ptr<GpuDevice> fast = MakeDevice(tf32);
  REQUIRE(cublasGetMathMode(fast->cublas(), &mode) == CUBLAS_STATUS_SUCCESS);
  CHECK(mode == CUBLAS_TF32_TENSOR_OP_MATH);
#endif
}

TEST_CASE("GpuDevice: round trips host -> device -> device -> host keep every byte") {
  SKIP_WITHOUT_GPU();
  std::unique_ptr<GpuDevice> device = MakeDevice();
  Allocator* dev = device->allocator();
  Allocator* pinned = device->host_allocator();
  // The pinned pool is the process's: count from what other cases left in it.
  const int64_t pinned_base = device->host_bfc()->GetStats().bytes_in_use;
  uint32_t seed = 7;
  for (size_t n : {size_t{1}, size_t{255}, size_t{4096}, size_t{1 * kMiB + 3}, 64 * kMiB}) {
    INFO("bytes " << n);
    std::vector<uint8_t> in = RandomBytes(n, seed++);
    void* a = dev->Allocate(n);
    void* b = dev->Allocate(n);
    REQUIRE(a != nullptr);
    REQUIRE(b != nullptr);
    // Pageable source, pinned destination.
    auto* out = static_cast<uint8_t*>(pinned->Allocate(n));
    REQUIRE(out != nullptr);
    std::memset(out, 0, n);
    REQUIRE(device->CopyHostToDevice(in.data(), a, n).ok());
    REQUIRE(device->CopyDeviceToDevice(a, b, n).ok());
    REQUIRE(device->CopyDeviceToHost(b, out, n).ok());
    REQUIRE(device->Synchronize().ok());
    CHECK(std::memcmp(in.data(), out, n) == 0);
    // Pinned source, pageable destination.
    std::vector<uint8_t> back(n, 0);
    std::vector<uint8_t> in2 = RandomBytes(n, seed++);
    std::memcpy(out, in2.data(), n);
    REQUIRE(device->CopyHostToDevice(out, b, n).ok());
    REQUIRE(device->CopyDeviceToHost(b, back.data(), n).ok());
    REQUIRE(device->Synchronize().ok());
    CHECK(back == in2);
    dev->Deallocate(a, n);
    dev->Deallocate(b, n);
    pinned->Deallocate(out, n);
  }
  CHECK(device->host_bfc()->GetStats().bytes_in_use == pinned_base);
}

TEST_CASE("GpuDevice: the pinned pool is the process's and outlives every device") {
  SKIP_WITHOUT_GPU();
  Allocator* pool = GpuHostAllocator();
  REQUIRE(pool != nullptr);
  Tensor kept;
  {
    std::unique_ptr<GpuDevice> device = MakeDevice();
    CHECK(device->host_allocator() == pool);
    std::unique_ptr<GpuDevice> other = MakeDevice();
    CHECK(other->host_allocator() == pool);
    CHECK(other->host_bfc() == device->host_bfc());
    kept = Tensor(pool, DT_FLOAT, TensorShape({1000}));
    REQUIRE(kept.raw_data() != nullptr);
    for (int i = 0; i < 1000; ++i) kept.data<float>()[i] = static_cast<float>(i);
  }
  // Both devices are gone; the pinned tensor is still there.
  CHECK(IsGpuHostTensor(kept));
  CHECK(kept.data<float>()[999] == 999.0f);
  CHECK_FALSE(IsGpuHostTensor(Tensor(DT_FLOAT, TensorShape({4}))));
  CHECK_FALSE(IsGpuHostTensor(Tensor()));
}

TEST_CASE("GpuDevice: ReleaseAfterSync keeps a copy's pinned source until the compute stream syncs") {
  SKIP_WITHOUT_GPU();
  std::unique_ptr<GpuDevice> device = MakeDevice();
  BfcAllocator* pool = device->host_bfc();
  for (size_t n : {size_t{64}, size_t{3 * kMiB}}) {  // compute stream, then the copy stream
    INFO("bytes " << n);
    REQUIRE(device->Synchronize().ok());
    const int64_t base = pool->GetStats().bytes_in_use;
    const std::vector<uint8_t> in = RandomBytes(n, static_cast<uint32_t>(n));
    void* dst = device->allocator()->Allocate(n);
    REQUIRE(dst != nullptr);
    {
      Tensor source(device->host_allocator(), DT_UINT8, TensorShape({static_cast<int64_t>(n)}));
      REQUIRE(source.raw_data() != nullptr);
      std::memcpy(source.raw_data(), in.data(), n);
      REQUIRE(device->CopyHostToDevice(source.raw_data(), dst, n).ok());
      device->ReleaseAfterSync(std::move(source));
    }
    // Kept: the only reference left is the device's.
    CHECK(pool->GetStats().bytes_in_use >= base + static_cast<int64_t>(n));
    // Another stream's wait does not release it; the compute stream's does.
    REQUIRE(device->SynchronizeStream(GpuDevice::Stream::kDeviceToHost).ok());
    CHECK(pool->GetStats().bytes_in_use >= base + static_cast<int64_t>(n));
    REQUIRE(device->SynchronizeStream(GpuDevice::Stream::kCompute).ok());
    CHECK(pool->GetStats().bytes_in_use == base);
    std::vector<uint8_t> back(n, 0);
    REQUIRE(device->CopyDeviceToHost(dst, back.data(), n).ok());
    REQUIRE(device->Synchronize().ok());
    CHECK(back == in);
    device->allocator()->Deallocate(dst, n);
  }
}

TEST_CASE("GpuDevice: copies are ordered with compute work without host synchronization") {
  SKIP_WITHOUT_GPU();
  std::unique_ptr<GpuDevice> device = MakeDevice();
  constexpr int kN = 1 << 22;  // 16 MiB of floats: long enough for races to show
  const size_t bytes = kN * sizeof(float);
  Allocator* dev = device->allocator();
  auto* x = static_cast<float*>(dev->Allocate(bytes));
  REQUIRE(x != nullptr);
  auto* host = static_cast<float*>(device->host_allocator()->Allocate(bytes));
  auto* result = static_cast<float*>(device->host_allocator()->Allocate(bytes));
  REQUIRE(host != nullptr);
  REQUIRE(result != nullptr);
  for (int i = 0; i < kN; ++i) host[i] = static_cast<float>(i % 1000);
  REQUIRE(device->CopyHostToDevice(host, x, bytes).ok());
#ifdef WEIR_HAVE_CUDA
  // A compute-stream kernel (cuBLAS scal) after the upload, a download after the kernel: with
  // no synchronization in between, the download must see the scaled values.
  for (int round = 0; round < 4; ++round) {
    float alpha = 2.0f;
    REQUIRE(cublasSscal(device->cublas(), kN, &alpha, x, 1) == CUBLAS_STATUS_SUCCESS);
  }
#endif
  REQUIRE(device->CopyDeviceToHost(x, result, bytes).ok());
  // Overwrite the device buffer right after: the download must have read it first.
  std::vector<float> zeros(kN, 0.0f);
  REQUIRE(device->CopyHostToDevice(zeros.data(), x, bytes).ok());
  REQUIRE(device->Synchronize().ok());
#ifdef WEIR_HAVE_CUDA
  const float scale = 16.0f;
#else
  const float scale = 1.0f;
#endif
  int wrong = 0;
  for (int i = 0; i < kN; ++i) wrong += result[i] != scale * static_cast<float>(i % 1000);
  CHECK(wrong == 0);
  dev->Deallocate(x, bytes);
  device->host_allocator()->Deallocate(host, bytes);
  device->host_allocator()->Deallocate(result, bytes);
}

TEST_CASE("GpuDevice: events and host callbacks") {
  SKIP_WITHOUT_GPU();
  std::unique_ptr<GpuDevice> device = MakeDevice();
  absl::StatusOr<GpuEvent> event = GpuEvent::Create();
  REQUIRE(event.ok());
  const size_t n = 8 * kMiB;
  void* a = device->allocator()->Allocate(n);
  REQUIRE(a != nullptr);
  std::vector<uint8_t> in = RandomBytes(n, 3);
  REQUIRE(device->CopyHostToDevice(in.data(), a, n).ok());
  REQUIRE(event->Record(device->compute_stream()).ok());
  REQUIRE(event->Synchronize().ok());
  absl::StatusOr<bool> done = event->IsDone();
  REQUIRE(done.ok());
  CHECK(*done);
  absl::Notification called;
  REQUIRE(device->EnqueueHostCallback(GpuDevice::Stream::kCompute, [&called] {
    called.Notify();
  }).ok());
  CHECK(called.WaitForNotificationWithTimeout(absl::Seconds(10)));
  REQUIRE(device->OrderStreams(GpuDevice::Stream::kCompute, GpuDevice::Stream::kDeviceToHost).ok());
  // An empty event is an error, not a crash.
  GpuEvent empty;
  CHECK(empty.Record(device->compute_stream()).code() == absl::StatusCode::kFailedPrecondition);
  device->allocator()->Deallocate(a, n);
}

TEST_CASE("GpuDevice: bad copy arguments are InvalidArgument") {
  SKIP_WITHOUT_GPU();
  std::unique_ptr<GpuDevice> device = MakeDevice();
  void* a = device->allocator()->Allocate(1024);
  CHECK(device->CopyHostToDevice(nullptr, a, 16).code() == absl::StatusCode::kInvalidArgument);
  CHECK(device->CopyDeviceToHost(a, nullptr, 16).code() == absl::StatusCode::kInvalidArgument);
  CHECK(device->CopyDeviceToDevice(nullptr, a, 16).code() == absl::StatusCode::kInvalidArgument);
  CHECK(device->CopyHostToDevice(nullptr, nullptr, 0).ok());
  device->allocator()->Deallocate(a, 1024);
  CHECK(device->Synchronize().ok());
}

TEST_CASE("GpuDevice: an allocation larger than the card fails and the next one works") {
  SKIP_WITHOUT_GPU();
  std::unique_ptr<GpuDevice> device = MakeDevice();
  BfcStats before = device->memory_stats();
  size_t too_big = static_cast<size_t>(before.bytes_limit) * 2 + (size_t{1} << 30);
  void* p = device->allocator()->Allocate(too_big);
  CHECK(p == nullptr);
  absl::Status oom = OutOfMemoryError(device->name(), too_big, "big/Fill", "Fill",
                                      device->memory_stats());
  CHECK(oom.code() == absl::StatusCode::kResourceExhausted);
  CHECK(std::string(oom.message()).find("out of memory on /device:GPU:0 allocating") == 0);
  // Everything still works: allocate, copy, synchronize.
  void* q = device->allocator()->Allocate(16 * kMiB);
  REQUIRE(q != nullptr);
  std::vector<uint8_t> in = RandomBytes(16 * kMiB, 9), out(16 * kMiB);
  REQUIRE(device->CopyHostToDevice(in.data(), q, in.size()).ok());
  REQUIRE(device->CopyDeviceToHost(q, out.data(), out.size()).ok());
  REQUIRE(device->Synchronize().ok());
  CHECK(in == out);
  device->allocator()->Deallocate(q, 16 * kMiB);
  CHECK(device->memory_stats().num_failed_allocs == before.num_failed_allocs + 1);
}

TEST_CASE("GpuDevice: a memory limit is honored and filling it up recovers") {
  SKIP_WITHOUT_GPU();
  GpuOptions options;
  options.memory_limit_bytes = 256 * kMiB;
  options.initial_region_bytes = 16 * kMiB;
  std::unique_ptr<GpuDevice> device = MakeDevice(options);
  BfcStats stats = device->memory_stats();
  CHECK(stats.bytes_limit == int64_t{256 * kMiB});
  CHECK(device->allocator()->Allocate(300 * kMiB) == nullptr);
  // Take everything left in 8 MiB pieces, then one more fails, then after a free it works.
  std::vector<void*> blocks;
  while (void* p = device->allocator()->Allocate(8 * kMiB)) blocks.push_back(p);
  CHECK(blocks.size() >= 24);  // 256 MiB - the 32 MiB cuBLAS workspace = 28 pieces at best
  CHECK(device->memory_stats().bytes_reserved <= int64_t{256 * kMiB});
  device->allocator()->Deallocate(blocks.back(), 8 * kMiB);
  blocks.pop_back();
  void* again = device->allocator()->Allocate(8 * kMiB);
  CHECK(again != nullptr);
  blocks.push_back(again);
  for (void* p : blocks) device->allocator()->Deallocate(p, 8 * kMiB);
  CHECK(device->Synchronize().ok());
}

TEST_CASE("GpuDevice: statistics track use and peak") {
  SKIP_WITHOUT_GPU();
  std::unique_ptr<GpuDevice> device = MakeDevice();
  int64_t base = device->memory_stats().bytes_in_use;
  void* a = device->allocator()->Allocate(1000);
  void* b = device->allocator()->Allocate(3 * kMiB);
  BfcStats stats = device->memory_stats();
  CHECK(stats.bytes_in_use == base + 1024 + int64_t{3 * kMiB});
  CHECK(stats.peak_bytes_in_use >= stats.bytes_in_use);
  device->allocator()->Deallocate(b, 3 * kMiB);
  device->device_bfc()->ResetPeak();
  stats = device->memory_stats();
  CHECK(stats.bytes_in_use == base + 1024);
  CHECK(stats.peak_bytes_in_use == base + 1024);
  device->allocator()->Deallocate(a, 1000);
  CHECK(device->memory_stats().bytes_in_use == base);
}

}  // namespace
}  // namespace weir
