// gemm.h - Row-major float GEMM on cuBLAS (MatMul, BatchMatMul) and on cuBLASLt with a fused
// bias (+ReLU) epilogue (_FusedMatMul).
//
// cuBLAS is column-major; a row-major C = op(A) op(B) is computed as the column-major
// C^T = op(B)^T op(A)^T, i.e. by passing B first, A second and swapping m and n: no copies.
// Precision: TF32 is off by default (CUBLAS_COMPUTE_32F with CUBLAS_DEFAULT_MATH), so results
// match a float64 reference to ~1e-5 relative; `allow_tf32` trades that for the tensor cores
// (on an H100, 4096^3: ~50 vs ~350 TFLOP/s measured by PyTorch).
#ifndef WEIR_KERNELS_GPU_GEMM_H_
#define WEIR_KERNELS_GPU_GEMM_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "kernels/gpu/gpu_status.h"

namespace weir {
namespace gpu {

// C[b] (m x n) = alpha * op(A[b]) (m x k) * op(B[b]) (k x n) + beta * C[b], all row-major
// and densely packed; op(X) is X^T when the transpose flag is set (A is then stored k x m,
// B n x k). For batch > 1 the operands of batch b start at b * stride_*, in elements; a
// stride of 0 broadcasts that operand over the batch (BatchMatMulV2's broadcasting of a rank-2
// operand).
struct GemmParams {
  int64_t m = 0;
  int64_t n = 0;
  int64_t k = 0;
  bool transpose_a = false;
  bool transpose_b = false;
  int64_t batch = 1;
  int64_t stride_a = 0;
  int64_t stride_b = 0;
  int64_t stride_c = 0;
  float alpha = 1.0f;
  float beta = 0.0f;
  bool allow_tf32 = false;
};

enum class GemmEpilogue {
  kBias,      // C = op(A) op(B) + bias (bias has n values, added to every row)
  kBiasRelu,  // C = max(op(A) op(B) + bias, 0)
};

// cuBLAS and cuBLASLt handles plus cuBLASLt's workspace and its plans per fused-gemm shape,
// for one thread and stream at a time (not thread-safe: cuBLAS handles must not be shared
// between threads running different streams). Create it once per stream and device and keep
// it: creating handles costs milliseconds.
class GpuBlas {
 public:
  // Fails (with the CUDA or cuBLAS error) when no GPU can be used or the build has no CUDA.
  static GpuStatus Create(std::unique_ptr<GpuBlas>* out,
                          size_t lt_workspace_bytes = size_t{32} << 20);
  // Borrows a cuBLAS handle (cublasHandle_t) and a device workspace of `workspace_bytes`
  // (shared by the cuBLAS and cuBLASLt calls) that the caller keeps alive longer than this
  // object and uses only on the stream this object's calls run on; makes its own cuBLASLt handle.
  static GpuStatus CreateBorrowing(std::unique_ptr<GpuBlas>* out, void* cublas_handle,
                                   void* workspace, size_t workspace_bytes);
  ~GpuBlas();
  GpuBlas(const GpuBlas&) = delete;
  GpuBlas& operator=(const GpuBlas&) = delete;

  // MatMul and BatchMatMul (batch > 1) through cublasGemm(StridedBatched)Ex.
  GpuStatus Gemm(const GemmParams& params, const float* a, const float* b, float* c,
                 GpuStream stream);

  // _FusedMatMul: one cuBLASLt matmul whose epilogue adds `bias` (n floats) and optionally
  // applies ReLU. batch must be 1; alpha and beta are ignored (1 and 0). Where cuBLASLt has
  // no algorithm (an odd alignment, say) it runs Gemm, BiasAdd and Relu instead.
  GpuStatus FusedGemm(const GemmParams& params, const float* a, const float* b,
                      const float* bias, GemmEpilogue epilogue, float* c, GpuStream stream);

 private:
  struct LtPlanCache;  // cuBLASLt descriptors and algorithm per fused-gemm shape (gemm.cc)

  GpuBlas();
  std::unique_ptr<LtPlanCache> lt_plans_;
  void* blas_handle_ = nullptr;  // cublasHandle_t
  void* lt_handle_ = nullptr;    // cublasLtHandle_t
  void* lt_workspace_ = nullptr;
  size_t lt_workspace_bytes_ = 0;
  bool owns_handle_and_workspace_ = true;  // false after CreateBorrowing
};

}  // namespace gpu
}  // namespace weir

#endif  // WEIR_KERNELS_GPU_GEMM_H_
