// gpu_gemm_test.cc - GpuBlas (cuBLAS MatMul/BatchMatMul, cuBLASLt fused bias(+ReLU)) against a
// float64 reference.
//
// Tolerance: 1e-4 relative to sum_k |a_ik * b_kj| (the scale a dot product's rounding error
// grows with; plain relative error is meaningless where the sum cancels to near zero), with
// TF32 off. A TF32 run only has to land within 1e-2 of it. Without a GPU every test case warns
// "SKIPPED: no GPU" and returns.
#include <catch2/catch.hpp>

#ifdef WEIR_HAVE_CUDA

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kernels/gpu/gemm.h"
#include "tests/kernels/gpu/gpu_test_util.h"

namespace weir {
namespace gpu {
namespace {

using testing::DeviceBuffer;
using testing::RandomVector;

constexpr double kGemmRtol = 1e-4;

// Reference C = op(A) op(B) for one batch, plus the per-element error scale.
void ReferenceGemm(const GemmParams& p, const float* a, const float* b, std::vector<double>* c,
                   std::vector<double>* scale) {
  c->assign(p.m * p.n, 0.0);
  scale->assign(p.m * p.n, 0.0);
  for (int64_t i = 0; i < p.m; ++i) {
    for (int64_t j = 0; j < p.n; ++j) {
      double sum = 0, abs_sum = 0;
      for (int64_t l = 0; l < p.k; ++l) {
        const double av = p.transpose_a ? a[l * p.m + i] : a[i * p.k + l];
        const double bv = p.transpose_b ? b[j * p.k + l] : b[l * p.n + j];
        sum += av * bv;
        abs_sum += std::fabs(av * bv);
      }
      (*c)[i * p.n + j] = sum;
      (*scale)[i * p.n + j] = abs_sum;
    }
  }
}

void CheckGemm(const std::vector<float>& got, const std::vector<double>& want,
               const std::vector<double>& scale, double rtol, const std::string& what) {
  INFO(what);
  REQUIRE(got.size() == want.size());
  int64_t bad = 0, first = -1;
  for (size_t i = 0; i < got.size(); ++i) {
    if (!(std::fabs(got[i] - want[i]) <= rtol * scale[i] + 1e-6)) {
      if (first < 0) first = i;
      ++bad;
    }
  }
  if (bad > 0) {
    INFO("first mismatch at " << first << ": got " << got[first] << ", want " << want[first]
                              << " (" << bad << " differ)");
    CHECK(bad == 0);
  }
}

std::unique_ptr<GpuBlas> MakeBlas() {
  std::unique_ptr<GpuBlas> blas;
  const GpuStatus st = GpuBlas::Create(&blas);
  INFO(st.message());
  REQUIRE(st.ok());
  return blas;
}

TEST_CASE("gpu MatMul with every transpose combination") {
  WEIR_REQUIRE_GPU_OR_SKIP();
  std::unique_ptr<GpuBlas> blas = MakeBlas();
  struct Shape {
    int64_t m, n, k;
  };
  const Shape shapes[] = {{64, 48, 32}, {1, 10, 784}, {257, 129, 511}, {3, 1, 1}};
  uint32_t seed = 1000;
  for (const Shape& s : shapes) {
    for (int flags = 0; flags < 4; ++flags) {
      GemmParams p;
      p.m = s.m;
      p.n = s.n;
      p.k = s.k;
      p.transpose_a = flags & 1;
      p.transpose_b = flags & 2;
      std::vector<float> a = RandomVector<float>(p.m * p.k, -1, 1, seed++);
      std::vector<float> b = RandomVector<float>(p.k * p.n, -1, 1, seed++);
      DeviceBuffer<float> da(a), db(b), dc(p.m * p.n);
      WEIR_REQUIRE_OK(blas->Gemm(p, da.get(), db.get(), dc.get(), nullptr));
      std::vector<double> want, scale;
      ReferenceGemm(p, a.data(), b.data(), &want, &scale);
      const std::string what = "MatMul m=" + std::to_string(p.m) + " n=" + std::to_string(p.n) +
                               " k=" + std::to_string(p.k) + " ta=" +
                               std::to_string(p.transpose_a) + " tb=" +
                               std::to_string(p.transpose_b);
      CheckGemm(dc.ToHost(), want, scale, kGemmRtol, what);

      // TF32 on: still close, only less precise.
      p.allow_tf32 = true;
      WEIR_REQUIRE_OK(blas->Gemm(p, da.get(), db.get(), dc.get(), nullptr));
      CheckGemm(dc.ToHost(), want, scale, 1e-2, what + " tf32");
    }
  }
}

TEST_CASE("gpu BatchMatMul, strided and with a broadcast operand") {
  WEIR_REQUIRE_GPU_OR_SKIP();
  std::unique_ptr<GpuBlas> blas = MakeBlas();
  GemmParams p;
  p.m = 33;
  p.n = 17;
  p.k = 65;
  p.batch = 5;
  p.transpose_b = true;
  for (bool broadcast_b : {false, true}) {
    p.stride_a = p.m * p.k;
    p.stride_b = broadcast_b ? 0 : p.k * p.n;
    p.stride_c = p.m * p.n;
    std::vector<float> a = RandomVector<float>(p.batch * p.stride_a, -1, 1, 1100);
    std::vector<float> b = RandomVector<float>(broadcast_b ? p.k * p.n : p.batch * p.stride_b, -1,
                                               1, 1101);
    DeviceBuffer<float> da(a), db(b), dc(p.batch * p.stride_c);
    WEIR_REQUIRE_OK(blas->Gemm(p, da.get(), db.get(), dc.get(), nullptr));
    const std::vector<float> got = dc.ToHost();
    for (int64_t i = 0; i < p.batch; ++i) {
      std::vector<double> want, scale;
      ReferenceGemm(p, a.data() + i * p.stride_a, b.data() + i * p.stride_b, &want, &scale);
      CheckGemm(std::vector<float>(got.begin() + i * p.stride_c,
                                   got.begin() + (i + 1) * p.stride_c),
                want, scale, kGemmRtol,
                "batch " + std::to_string(i) + (broadcast_b ? " broadcast b" : ""));
    }
  }
}

TEST_CASE("gpu fused MatMul with bias and bias+ReLU epilogues") {
  WEIR_REQUIRE_GPU_OR_SKIP();
  std::unique_ptr<GpuBlas> blas = MakeBlas();
  struct Shape {
    int64_t m, n, k;
  };
  const Shape shapes[] = {{128, 64, 96}, {1, 512, 784}, {37, 10, 64}};
  uint32_t seed = 1200;
  for (const Shape& s : shapes) {
    for (int flags = 0; flags < 4; ++flags) {
      for (GemmEpilogue epilogue : {GemmEpilogue::kBias, GemmEpilogue::kBiasRelu}) {
        GemmParams p;
        p.m = s.m;
        p.n = s.n;
        p.k = s.k;
        p.transpose_a = flags & 1;
        p.transpose_b = flags & 2;
        std::vector<float> a = RandomVector<float>(p.m * p.k, -1, 1, seed++);
        std::vector<float> b = RandomVector<float>(p.k * p.n, -1, 1, seed++);
        std::vector<float> bias = RandomVector<float>(p.n, -1, 1, seed++);
        DeviceBuffer<float> da(a), db(b), dbias(bias), dc(p.m * p.n);
        WEIR_REQUIRE_OK(
            blas->FusedGemm(p, da.get(), db.get(), dbias.get(), epilogue, dc.get(), nullptr));
        std::vector<double> want, scale;
        ReferenceGemm(p, a.data(), b.data(), &want, &scale);
        for (int64_t i = 0; i < p.m * p.n; ++i) {
          want[i] += bias[i % p.n];
          scale[i] += std::fabs(bias[i % p.n]);
          if (epilogue == GemmEpilogue::kBiasRelu && want[i] < 0) want[i] = 0;
        }
        CheckGemm(dc.ToHost(), want, scale, kGemmRtol,
                  "FusedMatMul m=" + std::to_string(p.m) + " n=" + std::to_string(p.n) + " k=" +
                      std::to_string(p.k) + " flags " + std::to_string(flags) +
                      (epilogue == GemmEpilogue::kBiasRelu ? " relu" : ""));
      }
    }
  }
}

TEST_CASE("gpu fused MatMul reuses its cached plan with new pointers") {
  WEIR_REQUIRE_GPU_OR_SKIP();
  std::unique_ptr<GpuBlas> blas = MakeBlas();
  GemmParams p;
  p.m = 48;
  p.n = 40;
  p.k = 72;
  std::vector<float> a = RandomVector<float>(p.m * p.k + 1, -1, 1, 1300);
  std::vector<float> b = RandomVector<float>(p.k * p.n, -1, 1, 1301);
  DeviceBuffer<float> da(a), db(b), dc(p.m * p.n);
  // Two biases through one cached plan, then an A that is only 4-byte aligned (a new plan).
  for (int round = 0; round < 3; ++round) {
    const int a_offset = round == 2 ? 1 : 0;
    std::vector<float> bias = RandomVector<float>(p.n, -1, 1, 1310 + round);
    DeviceBuffer<float> dbias(bias);
    WEIR_REQUIRE_OK(blas->FusedGemm(p, da.get() + a_offset, db.get(), dbias.get(),
                                    GemmEpilogue::kBias, dc.get(), nullptr));
    std::vector<double> want, scale;
    ReferenceGemm(p, a.data() + a_offset, b.data(), &want, &scale);
    for (int64_t i = 0; i < p.m * p.n; ++i) {
      want[i] += bias[i % p.n];
      scale[i] += std::fabs(bias[i % p.n]);
    }
    CheckGemm(dc.ToHost(), want, scale, kGemmRtol, "round " + std::to_string(round));
  }
}

TEST_CASE("gpu MatMul with k = 0 gives zeros") {
  WEIR_REQUIRE_GPU_OR_SKIP();
  std::unique_ptr<GpuBlas> blas = MakeBlas();
  GemmParams p;
  p.m = 3;
  p.n = 5;
  p.k = 0;
  DeviceBuffer<float> dc(std::vector<float>(15, 7.0f));
  DeviceBuffer<float> empty(0);
  WEIR_REQUIRE_OK(blas->Gemm(p, empty.get(), empty.get(), dc.get(), nullptr));
  const std::vector<float> got = dc.ToHost();
  CHECK(got == std::vector<float>(15, 0.0f));
}

TEST_CASE("gpu gemm rejects dimensions cuBLAS cannot take") {
  WEIR_REQUIRE_GPU_OR_SKIP();
  std::unique_ptr<GpuBlas> blas = MakeBlas();
  GemmParams p;
  p.m = int64_t{1} << 32;
  p.n = 2;
  p.k = 2;
  const GpuStatus st = blas->Gemm(p, nullptr, nullptr, nullptr, nullptr);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message() == "gemm dimensions m=4294967296 n=2 k=2 batch=1 must lie in [0, 2^31)");
  p.m = 2;
  p.batch = 2;
  const GpuStatus fused =
      blas->FusedGemm(p, nullptr, nullptr, nullptr, GemmEpilogue::kBias, nullptr, nullptr);
  REQUIRE_FALSE(fused.ok());
  CHECK(fused.message() == "fused gemm takes batch 1, found 2");
}

}  // namespace
}  // namespace gpu
}  // namespace weir

#else  // !WEIR_HAVE_CUDA

TEST_CASE("gpu gemm") { WARN("SKIPPED: no GPU (this build has no CUDA toolkit)"); }

#endif  // WEIR_HAVE_CUDA
