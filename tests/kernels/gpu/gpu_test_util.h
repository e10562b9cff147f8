// gpu_test_util.h - Device buffers, seeded random data, float64 reference helpers and
// tolerance checks for the GPU kernel tests. Only meaningful in a build with CUDA.
#ifndef WEIR_TESTS_KERNELS_GPU_GPU_TEST_UTIL_H_
#define WEIR_TESTS_KERNELS_GPU_GPU_TEST_UTIL_H_

#ifdef WEIR_HAVE_CUDA

#include <cuda_runtime_api.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "kernels/gpu/gpu_status.h"

namespace weir {
namespace gpu {
namespace testing {

// Skips the rest of a test case, loudly, on a machine without a usable GPU.
#define WEIR_REQUIRE_GPU_OR_SKIP()           \
  do {                                       \
    if (!::weir::gpu::GpuAvailable()) {      \
      WARN("SKIPPED: no GPU");               \
      return;                                \
    }                                        \
  } while (0)

// Variadic so template arguments with commas need no extra parentheses.
#define WEIR_REQUIRE_OK(...)                                       \
  do {                                                             \
    const ::weir::gpu::GpuStatus weir_status_ = (__VA_ARGS__); \
    INFO(weir_status_.message());                              \
    REQUIRE(weir_status_.ok());                                \
  } while (0)

// A device allocation of n elements of T (at least one byte, so empty tensors get a valid
// pointer), freed on destruction.
template <typename T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t n) : size_(n) {
    void* p = nullptr;
    REQUIRE(cudaMalloc(&p, n > 0 ? n * sizeof(T) : 16) == cudaSuccess);
    data_ = static_cast<T*>(p);
  }
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) {
    CopyFrom(host);
  }
  ~DeviceBuffer() { cudaFree(data_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  T* get() { return data_; }
  const T* get() const { return data_; }
  size_t size() const { return size_; }

  void CopyFrom(const std::vector<T>& host) {
    REQUIRE(host.size() <= size_);
    if (host.empty()) return;
    if constexpr (std::is_same<T, bool>::value) {  // std::vector<bool> has no data()
      std::vector<char> bytes(host.begin(), host.end());
      REQUIRE(cudaMemcpy(data_, bytes.data(), bytes.size(), cudaMemcpyHostToDevice) ==
              cudaSuccess);
    } else {
      REQUIRE(cudaMemcpy(data_, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice) ==
              cudaSuccess);
    }
  }
  // Waits for all work on the device, then copies back; any asynchronous kernel error fails
  // the test here.
  std::vector<T> ToHost() const {
    REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
    if constexpr (std::is_same<T, bool>::value) {
      std::vector<char> bytes(size_);
      if (size_ > 0) {
        REQUIRE(cudaMemcpy(bytes.data(), data_, size_, cudaMemcpyDeviceToHost) == cudaSuccess);
      }
      return std::vector<bool>(bytes.begin(), bytes.end());
    } else {
      std::vector<T> host(size_);
      if (size_ > 0) {
        REQUIRE(cudaMemcpy(host.data(), data_, size_ * sizeof(T), cudaMemcpyDeviceToHost) ==
                cudaSuccess);
      }
      return host;
    }
  }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
};

template <typename T>
std::vector<T> RandomVector(size_t n, double lo, double hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<T> v(n);
  if constexpr (std::is_integral<T>::value) {
    std::uniform_int_distribution<int64_t> dist(static_cast<int64_t>(lo),
                                                static_cast<int64_t>(hi));
    for (auto& x : v) x = static_cast<T>(dist(rng));
  } else {
    std::uniform_real_distribution<double> dist(lo, hi);
    for (auto& x : v) x = static_cast<T>(dist(rng));
  }
  return v;
}

using Dims = std::vector<int64_t>;

inline int64_t NumElements(const Dims& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

inline GpuDims ToGpuDims(const Dims& dims) {
  return GpuDims(dims.data(), static_cast<int>(dims.size()));
}

inline std::string DimsString(const Dims& dims) { return ToGpuDims(dims).ToString(); }

// Row-major coordinates of flat index i.
inline Dims Unravel(int64_t i, const Dims& dims) {
  Dims coords(dims.size());
  for (int d = static_cast<int>(dims.size()) - 1; d >= 0; --d) {
    coords[d] = dims[d] == 0 ? 0 : i % dims[d];
    if (dims[d] != 0) i /= dims[d];
  }
  return coords;
}

inline int64_t Ravel(const Dims& coords, const Dims& dims) {
  int64_t i = 0;
  for (size_t d = 0; d < dims.size(); ++d) i = i * dims[d] + coords[d];
  return i;
}

// Checks |got - want| <= rtol * |want| + atol element by element (NaN must meet NaN, an
// infinity the same infinity), and reports the first mismatch and the count.
template <typename G>
void CheckClose(const std::vector<G>& got, const std::vector<double>& want, double rtol,
                double atol, const std::string& what) {
  INFO(what);
  REQUIRE(got.size() == want.size());
  int64_t bad = 0;
  int64_t first_bad = -1;
  for (size_t i = 0; i < got.size(); ++i) {
    const double g = static_cast<double>(got[i]);
    const double w = want[i];
    bool ok;
    if (std::isnan(w)) {
      ok = std::isnan(g);
    } else if (std::isinf(w)) {
      ok = g == w;
    } else {
      ok = std::fabs(g - w) <= rtol * std::fabs(w) + atol;
    }
    if (!ok) {
      if (first_bad < 0) first_bad = static_cast<int64_t>(i);
      ++bad;
    }
  }
  if (bad > 0) {
    INFO("first mismatch at " << first_bad << ": got " << static_cast<double>(got[first_bad])
                              << ", want " << want[first_bad] << " (" << bad << " of "
                              << got.size() << " differ)");
    CHECK(bad == 0);
  }
}

template <typename T>
void CheckEqual(const std::vector<T>& got, const std::vector<T>& want, const std::string& what) {
  INFO(what);
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i] != want[i]) {
      INFO("first mismatch at " << i << ": got " << +got[i] << ", want " << +want[i]);
      CHECK(got[i] == want[i]);
      return;
    }
  }
}

}  // namespace testing
}  // namespace gpu
}  // namespace weir

#endif  // WEIR_HAVE_CUDA

#endif  // WEIR_TESTS_KERNELS_GPU_GPU_TEST_UTIL_H_
