// gemm.cc - GpuBlas: row-major GEMM on cuBLAS and fused bias(+ReLU) GEMM on cuBLASLt.
#include "kernels/gpu/gemm.h"

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <tuple>

#ifdef WEIR_HAVE_CUDA
#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#endif

#include "kernels/gpu/bias_add.h"
#include "kernels/gpu/elementwise.h"

namespace weir {
namespace gpu {

#ifdef WEIR_HAVE_CUDA
namespace {

GpuStatus BlasStatus(cublasStatus_t status, const char* what) {
  if (status == CUBLAS_STATUS_SUCCESS) return GpuStatus::Ok();
  return GpuStatus::Error(std::string(what) + " failed: " + cublasGetStatusString(status));
}

GpuStatus CudaStatus(cudaError_t err, const char* what) {
  if (err == cudaSuccess) return GpuStatus::Ok();
  return GpuStatus::Error(std::string(what) + " failed: " + cudaGetErrorString(err));
}

// The largest power of two (up to 256) dividing the address. cuBLASLt assumes 256-byte
// aligned operands unless told otherwise, and may pick a kernel that needs it.
uint32_t Alignment(const void* p) {
  uint32_t alignment = 256;
  const auto address = reinterpret_cast<uintptr_t>(p);
  while (alignment > 1 && address % alignment != 0) alignment /= 2;
  return alignment;
}

bool FitsInt(int64_t v) { return v >= 0 && v <= std::numeric_limits<int>::max(); }

GpuStatus CheckParams(const GemmParams& p) {
  if (!FitsInt(p.m) || !FitsInt(p.n) || !FitsInt(p.k) || p.batch < 0 || !FitsInt(p.batch)) {
    return GpuStatus::Error("gemm dimensions m=" + std::to_string(p.m) + " n=" +
                            std::to_string(p.n) + " k=" + std::to_string(p.k) + " batch=" +
                            std::to_string(p.batch) + " must lie in [0, 2^31)");
  }
  if (p.stride_a < 0 || p.stride_b < 0 || p.stride_c < 0) {
    return GpuStatus::Error("gemm batch strides must not be negative");
  }
  return GpuStatus::Ok();
}

// RAII for the cuBLASLt descriptors of one fused-gemm plan.
struct LtDescriptors {
  cublasLtMatmulDesc_t matmul = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulPreference_t preference = nullptr;
  ~LtDescriptors() {
    if (preference != nullptr) cublasLtMatmulPreferenceDestroy(preference);
    if (c != nullptr) cublasLtMatrixLayoutDestroy(c);
    if (b != nullptr) cublasLtMatrixLayoutDestroy(b);
    if (a != nullptr) cublasLtMatrixLayoutDestroy(a);
    if (matmul != nullptr) cublasLtMatmulDescDestroy(matmul);
  }
};

// A cuBLASLt plan for one problem: descriptors and the algorithm the heuristic chose. Building
// one (the heuristic query above all) costs far more host time than a small launch, so plans
// are cached per shape; only the bias pointer changes between calls.
struct LtKey {
  int64_t m, n, k;
  bool transpose_a, transpose_b, tf32;
  int epilogue;
  uint32_t align_a, align_b, align_c;
  bool operator<(const LtKey& o) const {
    return std::tie(m, n, k, transpose_a, transpose_b, tf32, epilogue, align_a, align_b,
                    align_c) < std::tie(o.m, o.n, o.k, o.transpose_a, o.transpose_b, o.tf32,
                                        o.epilogue, o.align_a, o.align_b, o.align_c);
  }
};

struct LtPlan {
  LtDescriptors d;
  cublasLtMatmulAlgo_t algo;
  bool supported = false;  // false: cuBLASLt offers no algorithm, take the unfused path
};

// Cached plans are bounded; past this many shapes the cache starts over.
constexpr size_t kMaxLtPlans = 256;

GpuStatus BuildLtPlan(cublasLtHandle_t lt, const LtKey& key, size_t workspace_bytes,
                      LtPlan* plan) {
  LtDescriptors& d = plan->d;
  const cublasComputeType_t compute = key.tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  GpuStatus st = BlasStatus(cublasLtMatmulDescCreate(&d.matmul, compute, CUDA_R_32F),
                            "cublasLtMatmulDescCreate");
  if (!st.ok()) return st;
  // The same swap as Gemm: Lt's first operand is B, its second A, its output C^T (n x m).
  const cublasOperation_t op_first = key.transpose_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_second = key.transpose_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasLtEpilogue_t epi = key.epilogue == static_cast<int>(GemmEpilogue::kBiasRelu)
                                     ? CUBLASLT_EPILOGUE_RELU_BIAS
                                     : CUBLASLT_EPILOGUE_BIAS;
  st = BlasStatus(cublasLtMatmulDescSetAttribute(d.matmul, CUBLASLT_MATMUL_DESC_TRANSA,
                                                 &op_first, sizeof(op_first)),
                  "setting TRANSA");
  if (!st.ok()) return st;
  st = BlasStatus(cublasLtMatmulDescSetAttribute(d.matmul, CUBLASLT_MATMUL_DESC_TRANSB,
                                                 &op_second, sizeof(op_second)),
                  "setting TRANSB");
  if (!st.ok()) return st;
  st = BlasStatus(cublasLtMatmulDescSetAttribute(d.matmul, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi,
                                                 sizeof(epi)),
                  "setting the epilogue");
  if (!st.ok()) return st;
  // Column-major layouts (rows, cols, leading dimension) of the stored matrices.
  const uint64_t first_rows = key.transpose_b ? key.k : key.n;
  const uint64_t first_cols = key.transpose_b ? key.n : key.k;
  const uint64_t second_rows = key.transpose_a ? key.m : key.k;
  const uint64_t second_cols = key.transpose_a ? key.k : key.m;
  st = BlasStatus(cublasLtMatrixLayoutCreate(&d.a, CUDA_R_32F, first_rows, first_cols,
                                             static_cast<int64_t>(first_rows)),
                  "cublasLtMatrixLayoutCreate");
  if (!st.ok()) return st;
  st = BlasStatus(cublasLtMatrixLayoutCreate(&d.b, CUDA_R_32F, second_rows, second_cols,
                                             static_cast<int64_t>(second_rows)),
                  "cublasLtMatrixLayoutCreate");
  if (!st.ok()) return st;
  st = BlasStatus(cublasLtMatrixLayoutCreate(&d.c, CUDA_R_32F, key.n, key.m, key.n),
                  "cublasLtMatrixLayoutCreate");
  if (!st.ok()) return st;
  st = BlasStatus(cublasLtMatmulPreferenceCreate(&d.preference),
                  "cublasLtMatmulPreferenceCreate");
  if (!st.ok()) return st;
  st = BlasStatus(cublasLtMatmulPreferenceSetAttribute(
                      d.preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace_bytes,
                      sizeof(workspace_bytes)),
                  "setting the workspace limit");
  if (!st.ok()) return st;
  const struct {
    cublasLtMatmulPreferenceAttributes_t attribute;
    uint32_t alignment;
  } alignments[] = {
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, key.align_b},  // Lt's A is our B
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, key.align_a},
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, key.align_c},
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, key.align_c},
  };
  for (const auto& entry : alignments) {
    st = BlasStatus(cublasLtMatmulPreferenceSetAttribute(d.preference, entry.attribute,
                                                         &entry.alignment,
                                                         sizeof(entry.alignment)),
                    "setting an operand alignment");
    if (!st.ok()) return st;
  }
  cublasLtMatmulHeuristicResult_t heuristic = {};
  int found = 0;
  st = BlasStatus(cublasLtMatmulAlgoGetHeuristic(lt, d.matmul, d.a, d.b, d.c, d.c,
                                                 d.preference, 1, &heuristic, &found),
                  "cublasLtMatmulAlgoGetHeuristic");
  if (!st.ok()) return st;
  plan->supported = found > 0;
  if (plan->supported) plan->algo = heuristic.algo;
  return GpuStatus::Ok();
}

}  // namespace

struct GpuBlas::LtPlanCache {
  std::map<LtKey, std::unique_ptr<LtPlan>> plans;
};

GpuBlas::GpuBlas() = default;

GpuStatus GpuBlas::Create(std::unique_ptr<GpuBlas>* out, size_t lt_workspace_bytes) {
  if (!GpuAvailable()) return GpuStatus::Error("no CUDA device is available");
  std::unique_ptr<GpuBlas> blas(new GpuBlas());
  cublasHandle_t handle = nullptr;
  GpuStatus st = BlasStatus(cublasCreate(&handle), "cublasCreate");
  if (!st.ok()) return st;
  blas->blas_handle_ = handle;
  cublasLtHandle_t lt = nullptr;
  st = BlasStatus(cublasLtCreate(&lt), "cublasLtCreate");
  if (!st.ok()) return st;
  blas->lt_handle_ = lt;
  if (lt_workspace_bytes > 0) {
    st = CudaStatus(cudaMalloc(&blas->lt_workspace_, lt_workspace_bytes),
                    "allocating the cuBLASLt workspace");
    if (!st.ok()) return st;
    blas->lt_workspace_bytes_ = lt_workspace_bytes;
  }
  *out = std::move(blas);
  return GpuStatus::Ok();
}

GpuStatus GpuBlas::CreateBorrowing(std::unique_ptr<GpuBlas>* out, void* cublas_handle,
                                   void* workspace, size_t workspace_bytes) {
  if (cublas_handle == nullptr) return GpuStatus::Error("GpuBlas: null cuBLAS handle");
  if (workspace == nullptr && workspace_bytes > 0) {
    return GpuStatus::Error("GpuBlas: null workspace of " + std::to_string(workspace_bytes) +
                            " bytes");
  }
  std::unique_ptr<GpuBlas> blas(new GpuBlas());
  blas->owns_handle_and_workspace_ = false;
  blas->blas_handle_ = cublas_handle;
  cublasLtHandle_t lt = nullptr;
  GpuStatus st = BlasStatus(cublasLtCreate(&lt), "cublasLtCreate");
  if (!st.ok()) return st;
  blas->lt_handle_ = lt;
  blas->lt_workspace_ = workspace;
  blas->lt_workspace_bytes_ = workspace_bytes;
  *out = std::move(blas);
  return GpuStatus::Ok();
}

GpuBlas::~GpuBlas() {
  lt_plans_.reset();  // descriptors before the handle they were made for
  if (lt_handle_ != nullptr) cublasLtDestroy(static_cast<cublasLtHandle_t>(lt_handle_));
  if (!owns_handle_and_workspace_) return;
  if (lt_workspace_ != nullptr) cudaFree(lt_workspace_);
  if (blas_handle_ != nullptr) cublasDestroy(static_cast<cublasHandle_t>(blas_handle_));
}

GpuStatus GpuBlas::Gemm(const GemmParams& p, const float* a, const float* b, float* c,
                        GpuStream stream) {
  GpuStatus st = CheckParams(p);
  if (!st.ok()) return st;
  if (p.m == 0 || p.n == 0 || p.batch == 0) return GpuStatus::Ok();
  if (p.k == 0 && p.beta == 0.0f) {
    // An empty product: C = 0, as TensorFlow's MatMul gives (not left to cuBLAS's k = 0 path).
    const size_t bytes = static_cast<size_t>(p.m * p.n) * sizeof(float);
    for (int64_t i = 0; i < p.batch; ++i) {
      st = CudaStatus(cudaMemsetAsync(c + i * p.stride_c, 0, bytes,
                                      static_cast<cudaStream_t>(stream)),
                      "zeroing an empty product");
      if (!st.ok()) return st;
    }
    return GpuStatus::Ok();
  }
  auto handle = static_cast<cublasHandle_t>(blas_handle_);
  st = BlasStatus(cublasSetStream(handle, static_cast<cudaStream_t>(stream)), "cublasSetStream");
  if (!st.ok()) return st;
  if (lt_workspace_bytes_ > 0) {
    // cublasSetStream puts the handle back on cuBLAS's own workspace pool; the shared one keeps
    // cuBLAS from allocating inside a CUDA-graph capture. cuBLAS and cuBLASLt calls through
    // this object are ordered on one stream, so they never use it at the same time.
    st = BlasStatus(cublasSetWorkspace(handle, lt_workspace_, lt_workspace_bytes_),
                    "cublasSetWorkspace");
    if (!st.ok()) return st;
  }
  st = BlasStatus(cublasSetMathMode(handle, p.allow_tf32 ? CUBLAS_TF32_TENSOR_OP_MATH
                                                         : CUBLAS_DEFAULT_MATH),
                  "cublasSetMathMode");
  if (!st.ok()) return st;
  const cublasComputeType_t compute =
      p.allow_tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  // Column-major C^T (n x m) = op(B)^T (n x k) * op(A)^T (k x m).
  const cublasOperation_t op_b = p.transpose_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_a = p.transpose_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int m = static_cast<int>(p.n), n = static_cast<int>(p.m), k = static_cast<int>(p.k);
  const int ld_b = static_cast<int>(p.transpose_b ? p.k : p.n);
  const int ld_a = static_cast<int>(p.transpose_a ? p.m : p.k);
  const int ld_c = static_cast<int>(p.n);
  // k == 0 is legal (C = beta * C); cuBLAS wants leading dimensions of at least 1.
  const int lb = ld_b > 0 ? ld_b : 1, la = ld_a > 0 ? ld_a : 1;
  if (p.batch == 1) {
    return BlasStatus(cublasGemmEx(handle, op_b, op_a, m, n, k, &p.alpha, b, CUDA_R_32F, lb, a,
                                   CUDA_R_32F, la, &p.beta, c, CUDA_R_32F, ld_c, compute,
                                   CUBLAS_GEMM_DEFAULT),
                      "cublasGemmEx");
  }
  return BlasStatus(cublasGemmStridedBatchedEx(handle, op_b, op_a, m, n, k, &p.alpha, b,
                                               CUDA_R_32F, lb, p.stride_b, a, CUDA_R_32F, la,
                                               p.stride_a, &p.beta, c, CUDA_R_32F, ld_c,
                                               p.stride_c, static_cast<int>(p.batch), compute,
                                               CUBLAS_GEMM_DEFAULT),
                    "cublasGemmStridedBatchedEx");
}


GpuStatus GpuBlas::FusedGemm(const GemmParams& p, const float* a, const float* b,
                             const float* bias, GemmEpilogue epilogue, float* c,
                             GpuStream stream) {
  GpuStatus st = CheckParams(p);
  if (!st.ok()) return st;
  if (p.batch != 1) {
    return GpuStatus::Error("fused gemm takes batch 1, found " + std::to_string(p.batch));
  }
  if (p.m == 0 || p.n == 0) return GpuStatus::Ok();
  if (p.k == 0) {
    return GpuStatus::Error("fused gemm needs k > 0 (cuBLASLt refuses empty products)");
  }
  auto lt = static_cast<cublasLtHandle_t>(lt_handle_);
  const LtKey key = {p.m,         p.n,          p.k,         p.transpose_a,
                     p.transpose_b, p.allow_tf32, static_cast<int>(epilogue),
                     Alignment(a), Alignment(b), Alignment(c)};
  if (lt_plans_ == nullptr) lt_plans_ = std::make_unique<LtPlanCache>();
  auto it = lt_plans_->plans.find(key);
  if (it == lt_plans_->plans.end()) {
    auto plan = std::make_unique<LtPlan>();
    st = BuildLtPlan(lt, key, lt_workspace_bytes_, plan.get());
    if (!st.ok()) return st;
    if (lt_plans_->plans.size() >= kMaxLtPlans) lt_plans_->plans.clear();
    it = lt_plans_->plans.emplace(key, std::move(plan)).first;
  }
  LtPlan& plan = *it->second;
  if (!plan.supported) {
    // No fused algorithm for this shape or alignment: GEMM, then bias (and ReLU) in place.
    GemmParams unfused = p;
    unfused.alpha = 1.0f;
    unfused.beta = 0.0f;
    st = Gemm(unfused, a, b, c, stream);
    if (!st.ok()) return st;
    st = LaunchBiasAdd<float>(c, bias, c, p.m, p.n, 1, stream);
    if (!st.ok() || epilogue != GemmEpilogue::kBiasRelu) return st;
    return LaunchUnary<float>(UnaryOp::kRelu, c, c, p.m * p.n, stream);
  }
  st = BlasStatus(cublasLtMatmulDescSetAttribute(plan.d.matmul, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                                                 &bias, sizeof(bias)),
                  "setting the bias pointer");
  if (!st.ok()) return st;
  const float alpha = 1.0f, beta = 0.0f;
  return BlasStatus(cublasLtMatmul(lt, plan.d.matmul, &alpha, b, plan.d.a, a, plan.d.b, &beta,
                                   c, plan.d.c, c, plan.d.c, &plan.algo, lt_workspace_,
                                   lt_workspace_bytes_, static_cast<cudaStream_t>(stream)),
                    "cublasLtMatmul");
}

#else  // !WEIR_HAVE_CUDA

struct GpuBlas::LtPlanCache {};
GpuBlas::GpuBlas() = default;

GpuStatus GpuBlas::Create(std::unique_ptr<GpuBlas>*, size_t) {
  return GpuStatus::Error("this build has no CUDA support");
}
GpuStatus GpuBlas::CreateBorrowing(std::unique_ptr<GpuBlas>*, void*, void*, size_t) {
  return GpuStatus::Error("this build has no CUDA support");
}
GpuBlas::~GpuBlas() = default;
GpuStatus GpuBlas::Gemm(const GemmParams&, const float*, const float*, float*, GpuStream) {
  return GpuStatus::Error("this build has no CUDA support");
}
GpuStatus GpuBlas::FusedGemm(const GemmParams&, const float*, const float*, const float*,
                             GemmEpilogue, float*, GpuStream) {
  return GpuStatus::Error("this build has no CUDA support");
}

#endif  // WEIR_HAVE_CUDA

}  // namespace gpu
}  // namespace weir
