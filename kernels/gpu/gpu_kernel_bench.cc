// gpu_kernel_bench.cc - Times kernels/gpu launchers with CUDA events: elementwise Add of 16M
// floats (GB/s), Sum reductions (GB/s), and a 4096^3 SGEMM through GpuBlas next to
// cublasSgemm called directly (GFLOP/s of both and their ratio; TF32 off in both).
//
// Usage: gpu_kernel_bench [--iters N]. Without a GPU it says so and exits 0.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "kernels/gpu/gpu_status.h"

#ifdef WEIR_HAVE_CUDA

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <vector>

#include "kernels/gpu/elementwise.h"
#include "kernels/gpu/gemm.h"
#include "kernels/gpu/reduction.h"

namespace weir {
namespace gpu {
namespace {

#define BENCH_CHECK_CUDA(expr)                                                      \
  do {                                                                              \
    cudaError_t err_ = (expr);                                                      \
    if (err_ != cudaSuccess) {                                                      \
      std::fprintf(stderr, "gpu_kernel_bench: %s failed: %s\n", #expr,             \
                   cudaGetErrorString(err_));                                       \
      std::exit(1);                                                                 \
    }                                                                               \
  } while (0)

void CheckStatus(const GpuStatus& status, const char* what) {
  if (!status.ok()) {
    std::fprintf(stderr, "gpu_kernel_bench: %s failed: %s\n", what, status.message().c_str());
    std::exit(1);
  }
}

// Median milliseconds per call of `launch` over `iters` timed calls (each timed with its own
// event pair), after 3 warm-up calls.
double MedianMs(const std::function<void()>& launch, int iters, cudaStream_t stream) {
  for (int i = 0; i < 3; ++i) launch();
  BENCH_CHECK_CUDA(cudaStreamSynchronize(stream));
  cudaEvent_t start, stop;
  BENCH_CHECK_CUDA(cudaEventCreate(&start));
  BENCH_CHECK_CUDA(cudaEventCreate(&stop));
  std::vector<float> times;
  for (int i = 0; i < iters; ++i) {
    BENCH_CHECK_CUDA(cudaEventRecord(start, stream));
    launch();
    BENCH_CHECK_CUDA(cudaEventRecord(stop, stream));
    BENCH_CHECK_CUDA(cudaEventSynchronize(stop));
    float ms = 0;
    BENCH_CHECK_CUDA(cudaEventElapsedTime(&ms, start, stop));
    times.push_back(ms);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

float* DeviceFloats(size_t n, float value_seed) {
  void* p = nullptr;
  BENCH_CHECK_CUDA(cudaMalloc(&p, n * sizeof(float)));
  std::vector<float> host(n);
  for (size_t i = 0; i < n; ++i) host[i] = value_seed + static_cast<float>(i % 1000) * 1e-3f;
  BENCH_CHECK_CUDA(cudaMemcpy(p, host.data(), n * sizeof(float), cudaMemcpyHostToDevice));
  return static_cast<float*>(p);
}

int Run(int iters) {
  cudaDeviceProp prop;
  BENCH_CHECK_CUDA(cudaGetDeviceProperties(&prop, 0));
  std::printf("device: %s (%d SMs)\n", prop.name, prop.multiProcessorCount);
  cudaStream_t stream;
  BENCH_CHECK_CUDA(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));

  // Elementwise Add, 16M floats: reads 2, writes 1.
  {
    const int64_t n = int64_t{1} << 24;
    float* a = DeviceFloats(n, 1.0f);
    float* b = DeviceFloats(n, 2.0f);
    float* c = DeviceFloats(n, 0.0f);
    const double ms = MedianMs(
        [&] {
          CheckStatus(LaunchBinary<float>(BinaryOp::kAdd, a, GpuDims{n}, b, GpuDims{n}, c,
                                          stream),
                      "Add");
        },
        iters, stream);
    std::printf("add_16M:          %8.3f us  %8.1f GB/s\n", ms * 1e3,
                3.0 * n * sizeof(float) / (ms * 1e-3) / 1e9);
    // Row broadcast [4096, 4096] + [4096] (the strided kernel).
    const double ms_bcast = MedianMs(
        [&] {
          CheckStatus(LaunchBinary<float>(BinaryOp::kAdd, a, GpuDims{4096, 4096}, b,
                                          GpuDims{4096}, c, stream),
                      "broadcast Add");
        },
        iters, stream);
    std::printf("add_bcast_4096^2: %8.3f us  %8.1f GB/s\n", ms_bcast * 1e3,
                2.0 * n * sizeof(float) / (ms_bcast * 1e-3) / 1e9);

    // Sum: all 16M elements (one long row, split through the workspace), rows, columns.
    struct SumCase {
      const char* name;
      GpuDims shape;
      std::vector<int64_t> axes;
    };
    const SumCase cases[] = {{"sum_all_16M:      ", GpuDims{n}, {0}},
                             {"sum_rows_4096^2:  ", GpuDims{4096, 4096}, {1}},
                             {"sum_cols_4096^2:  ", GpuDims{4096, 4096}, {0}}};
    for (const SumCase& s : cases) {
      const size_t ws_bytes =
          ReduceWorkspaceBytes(s.shape, s.axes.data(), s.axes.size(), sizeof(float));
      void* ws = nullptr;
      if (ws_bytes > 0) BENCH_CHECK_CUDA(cudaMalloc(&ws, ws_bytes));
      const double ms_sum = MedianMs(
          [&] {
            CheckStatus(LaunchReduce<float>(ReduceOp::kSum, a, s.shape, s.axes.data(),
                                            s.axes.size(), c, ws, ws_bytes, stream),
                        "Sum");
          },
          iters, stream);
      std::printf("%s %8.3f us  %8.1f GB/s\n", s.name, ms_sum * 1e3,
                  1.0 * n * sizeof(float) / (ms_sum * 1e-3) / 1e9);
      cudaFree(ws);
    }
    cudaFree(a);
    cudaFree(b);
    cudaFree(c);
  }

  // SGEMM 4096^3, TF32 off in both: GpuBlas (row-major, operand swap) vs cublasSgemm.
  {
    const int64_t dim = 4096;
    float* a = DeviceFloats(dim * dim, 0.5f);
    float* b = DeviceFloats(dim * dim, -0.25f);
    float* c = DeviceFloats(dim * dim, 0.0f);
    std::unique_ptr<GpuBlas> blas;
    CheckStatus(GpuBlas::Create(&blas), "GpuBlas::Create");
    GemmParams p;
    p.m = p.n = p.k = dim;
    const int gemm_iters = iters < 20 ? iters : 20;
    const double ms_ours = MedianMs(
        [&] { CheckStatus(blas->Gemm(p, a, b, c, stream), "GpuBlas::Gemm"); }, gemm_iters,
        stream);

    cublasHandle_t handle;
    if (cublasCreate(&handle) != CUBLAS_STATUS_SUCCESS) {
      std::fprintf(stderr, "gpu_kernel_bench: cublasCreate failed\n");
      return 1;
    }
    cublasSetStream(handle, stream);
    cublasSetMathMode(handle, CUBLAS_DEFAULT_MATH);
    const float alpha = 1.0f, beta = 0.0f;
    const int d = static_cast<int>(dim);
    const double ms_cublas = MedianMs(
        [&] {
          if (cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, d, d, d, &alpha, b, d, a, d, &beta,
                          c, d) != CUBLAS_STATUS_SUCCESS) {
            std::fprintf(stderr, "gpu_kernel_bench: cublasSgemm failed\n");
            std::exit(1);
          }
        },
        gemm_iters, stream);
    cublasDestroy(handle);
    const double flops = 2.0 * dim * dim * dim;
    const double ours = flops / (ms_ours * 1e-3) / 1e9;
    const double theirs = flops / (ms_cublas * 1e-3) / 1e9;
    std::printf("sgemm_4096^3 GpuBlas:      %8.3f ms  %9.1f GFLOP/s\n", ms_ours, ours);
    std::printf("sgemm_4096^3 cublasSgemm:  %8.3f ms  %9.1f GFLOP/s\n", ms_cublas, theirs);
    std::printf("sgemm ratio GpuBlas/cublasSgemm: %.3f\n", ours / theirs);
    blas.reset();
    cudaFree(a);
    cudaFree(b);
    cudaFree(c);
  }
  cudaStreamDestroy(stream);
  return 0;
}

}  // namespace
}  // namespace gpu
}  // namespace weir

#endif  // WEIR_HAVE_CUDA

int main(int argc, char** argv) {
  int iters = 100;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--iters") == 0 && i + 1 < argc) {
      iters = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: gpu_kernel_bench [--iters N]\n");
      return 2;
    }
  }
  if (iters < 1) iters = 1;
  if (!weir::gpu::GpuAvailable()) {
    std::printf("gpu_kernel_bench: no GPU available (no CUDA device could be opened); "
                "nothing measured\n");
    return 0;
  }
#ifdef WEIR_HAVE_CUDA
  return weir::gpu::Run(iters);
#else
  return 0;
#endif
}
