// matmul.cc - MatMul on the CPU through oneDNN's matmul primitive (float32).
//
// A primitive is created the first time the kernel sees a shape (M, K, N) and cached inside
// the kernel; transposes are expressed as strides on oneDNN's memory descriptors, so no copy
// is made. Compute is called concurrently from many steps: the cache is guarded by a mutex,
// and each execution gets its own scratchpad (scratchpad_mode::user) because with the default
// library-managed scratchpad oneDNN does not allow one primitive to run on two threads at once.
// A Const b whose leading dimension is a multiple of 64 floats is multiplied from a padded copy
// made with the primitive (kernels/cpu/gemm_weights.h).
#include <array>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "kernels/cpu/gemm_weights.h"
#include "kernels/cpu/onednn.h"
#include "kernels/cpu/matmul_dims.h"
#include "kernels/cpu/registry.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace weir {
namespace {

using onednn::CpuEngine;
using onednn::ThreadStream;

class MatMulKernel : public OpKernel {
 public:
  explicit MatMulKernel(const KernelConstruction& c) : OpKernel(c), const_b_(InputIsConst(c, 1)) {
    c.GetAttr("transpose_a", &transpose_a_).IgnoreError();
    c.GetAttr("transpose_b", &transpose_b_).IgnoreError();
  }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& a = ctx->input(0);
    const Tensor& b = ctx->input(1);
    absl::StatusOr<MatMulDims> dims = GetMatMulDims(a, b, transpose_a_, transpose_b_);
    if (!dims.ok()) return dims.status();
    const int64_t m = dims->m, k = dims->k, n = dims->n;
    absl::StatusOr<Tensor*> product = ctx->allocate_output(0, DT_FLOAT, TensorShape{m, n});
    if (!product.ok()) return product.status();
    if (m == 0 || n == 0) return absl::OkStatus();
    if (k == 0) {
      std::memset((*product)->raw_data(), 0, (*product)->TotalBytes());
      return absl::OkStatus();
    }

    const int team = onednn::UseIntraOpThreads(ctx->device(), onednn::GemmWork(m, k, n));
    absl::StatusOr<Primitive> primitive = GetPrimitive(m, k, n, team, b);
    if (!primitive.ok()) return primitive.status();
    absl::StatusOr<Tensor> scratch = onednn::AllocateScratch(ctx, primitive->scratchpad_bytes);
    if (!scratch.ok()) return scratch.status();
    const Tensor& scratchpad = *scratch;
    try {
      const dnnl::engine& engine = CpuEngine();
      dnnl::memory a_mem(primitive->operands.a, engine, a.raw_data());
      dnnl::memory b_mem(primitive->operands.b, engine, primitive->operands.BData(b));
      dnnl::memory c_mem(primitive->operands.c, engine, (*product)->raw_data());
      dnnl::memory s_mem(primitive->scratchpad, engine, scratchpad.raw_data());
      dnnl::stream& stream = ThreadStream();
      primitive->matmul.execute(stream, {{DNNL_ARG_SRC, a_mem},
                                         {DNNL_ARG_WEIGHTS, b_mem},
                                         {DNNL_ARG_DST, c_mem},
                                         {DNNL_ARG_SCRATCHPAD, s_mem}});
      stream.wait();
    } catch (const dnnl::error& e) {
      return absl::InternalError(absl::StrCat("oneDNN matmul failed: ", e.what()));
    }
    return absl::OkStatus();
  }

 private:
  // A compiled primitive and the memory descriptors it was created for (handles; copies share).
  struct Primitive {
    dnnl::matmul matmul;
    GemmOperands operands;
    dnnl::memory::desc scratchpad;
    size_t scratchpad_bytes = 0;
  };
  using ShapeKey = std::array<int64_t, 4>;  // m, k, n, team size

  absl::StatusOr<Primitive> GetPrimitive(int64_t m, int64_t k, int64_t n, int team,
                                         const Tensor& b) {
    const ShapeKey key{m, k, n, team};
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    Primitive p;
    try {
      p.operands = DescribeGemm(m, k, n, transpose_a_, transpose_b_,
                                const_b_ ? b.data<float>() : nullptr);
      dnnl::primitive_attr attr;
      attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(p.operands.a, p.operands.b, p.operands.c), attr, CpuEngine());
      p.scratchpad = pd.scratchpad_desc();
      p.scratchpad_bytes = p.scratchpad.get_size();
      p.matmul = dnnl::matmul(pd);
    } catch (const dnnl::error& e) {
      return absl::InternalError(absl::StrCat("oneDNN matmul for [", m, ",", k, "] x [", k, ",", n,
                                              "] could not be created: ", e.what()));
    }
    cache_.emplace(key, p);
    return p;
  }

  bool transpose_a_ = false;
  bool transpose_b_ = false;
  const bool const_b_;
  absl::Mutex mu_;
  absl::flat_hash_map<ShapeKey, Primitive> cache_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

void RegisterCpuMatMulKernels(KernelRegistry& registry) {
  registry.Register({"MatMul", kDeviceCpu, "T", {DT_FLOAT}, MakeFactory<MatMulKernel>()});
}

}  // namespace weir
