// gpu_status.h - The small result type and the shape type shared by every GPU launcher.
//
// The launchers in kernels/gpu/ are plain functions over device pointers and a stream, free of
// the graph and runtime types (like TensorFlow's functors), so the OpKernel wrappers that turn
// them into graph kernels can live elsewhere. They return a GpuStatus, which a wrapper turns
// into an absl::Status naming the node; this header stays free of Abseil because nvcc compiles
// the files that include it.
#ifndef WEIR_KERNELS_GPU_GPU_STATUS_H_
#define WEIR_KERNELS_GPU_GPU_STATUS_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

#ifdef WEIR_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

namespace weir {
namespace gpu {

// A cudaStream_t, kept opaque so that callers need no CUDA header. nullptr is the legacy
// default stream.
using GpuStream = void*;

// The largest rank the launchers take (TensorFlow's GPU kernels stop at 8 as well).
inline constexpr int kMaxGpuRank = 8;

// The outcome of a launch: ok, or a message that starts lower-case and says what was expected
// versus found. A launch that returns ok has only been enqueued; errors raised by the kernel
// itself surface at the stream's next synchronization.
class GpuStatus {
 public:
  GpuStatus() = default;
  static GpuStatus Ok() { return GpuStatus(); }
  static GpuStatus Error(std::string message) {
    GpuStatus status;
    status.ok_ = false;
    status.message_ = std::move(message);
    return status;
  }

  bool ok() const { return ok_; }
  const std::string& message() const { return message_; }

 private:
  bool ok_ = true;
  std::string message_;
};

// A shape of at most kMaxGpuRank dimensions held inline, so a launch does not allocate.
struct GpuDims {
  int rank = 0;
  int64_t dims[kMaxGpuRank] = {};

  GpuDims() = default;
  GpuDims(std::initializer_list<int64_t> list) {
    for (int64_t d : list) {
      if (rank < kMaxGpuRank) dims[rank] = d;
      ++rank;  // a rank above kMaxGpuRank is reported by Valid()
    }
  }
  GpuDims(const int64_t* data, int n) : rank(n) {
    for (int i = 0; i < n && i < kMaxGpuRank; ++i) dims[i] = data[i];
  }

  // Valid means rank in [0, kMaxGpuRank] and no negative dimension.
  bool Valid() const {
    if (rank < 0 || rank > kMaxGpuRank) return false;
    for (int i = 0; i < rank; ++i) {
      if (dims[i] < 0) return false;
    }
    return true;
  }
  int64_t NumElements() const {
    int64_t n = 1;
    for (int i = 0; i < rank; ++i) n *= dims[i];
    return n;
  }
  int64_t operator[](int i) const { return dims[i]; }
  std::string ToString() const {
    std::string s = "[";
    for (int i = 0; i < rank && i < kMaxGpuRank; ++i) {
      if (i > 0) s += ",";
      s += std::to_string(dims[i]);
    }
    return s + "]";
  }
};

// Says whether a CUDA device can be used here: false when the runtime reports any error
// (no driver, driver older than the runtime, no device), as on every machine without a GPU,
// and always false in a build without CUDA.
inline bool GpuAvailable() {
#ifdef WEIR_HAVE_CUDA
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error so later calls do not see it
    return false;
  }
  return count > 0;
#else
  return false;
#endif
}

}  // namespace gpu
}  // namespace weir

#endif  // WEIR_KERNELS_GPU_GPU_STATUS_H_
