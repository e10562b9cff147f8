// eltwise_onednn.cc - float32 unary math and activations on oneDNN's eltwise_forward primitive
// (vectorized, JIT-compiled): Sqrt, Square, Elu; and float32 Tanh and Sigmoid on the AVX2
// functions of kernels/cpu/activation_float.h.
//
// Only ops whose oneDNN algorithm computes TensorFlow's function, NaN in giving NaN out, are
// on oneDNN: Sqrt = sqrt, Square = square, Elu = elu with alpha 1 (x > 0 ? x : exp(x) - 1).
// Checked against oneDNN 2.6 and left as loops: Exp (exp(NaN) is not NaN), Relu (relu(NaN) is
// 0; TensorFlow keeps NaN), Log (about 1e-4 relative error near x = 1), Softplus (TensorFlow's
// thresholds are not soft_relu's). Tanh and Sigmoid left oneDNN: its eltwise tanh (jit:avx2)
// took 3.2 ns per element on the benchmark's AMD EPYC (the `wide` benchmark's 64 Tanh of
// [64, 256]: 3.5 ms of a 10 ms step, 0.43 ms with TanhFloatArray); its logistic was 0.6 ns,
// and SigmoidFloatArray is as fast with TensorFlow-like accuracy for tiny results.
// Other dtypes keep the loops in elementwise.cc / nn_kernels.cc / activation_kernels.cc; each
// (op, dtype) has exactly one row.
//
// The tensor is described as a 1-D memory of its element count, so one primitive per count
// serves every shape with that many elements; primitives are cached per count under a mutex.
#include <cstdint>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "kernels/cpu/activation_float.h"
#include "kernels/cpu/elementwise_util.h"
#include "kernels/cpu/onednn.h"
#include "kernels/cpu/parallel_for.h"
#include "kernels/cpu/registry.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace weir {
namespace {

struct EltwiseAlgorithm {
  const char* op;
  dnnl::algorithm algorithm;
  float alpha;
  // Rough float operations per element, for sizing oneDNN's thread team.
  double flops_per_element;
};

constexpr EltwiseAlgorithm kAlgorithms[] = {
    {"Sqrt", dnnl::algorithm::eltwise_sqrt, 0.f, 4},
    {"Square", dnnl::algorithm::eltwise_square, 0.f, 1},
    {"Elu", dnnl::algorithm::eltwise_elu, 1.f, 15},
};

class OneDnnEltwiseKernel : public OpKernel {
 public:
  OneDnnEltwiseKernel(const KernelConstruction& c, const EltwiseAlgorithm& algorithm)
      : OpKernel(c), algorithm_(algorithm), expensive_(!IsSmallOutput(c)) {}

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    // oneDNN eltwise runs in place (src == dst) when x dies here.
    absl::StatusOr<Tensor*> y = ctx->forward_input_or_allocate_output(0, 0, DT_FLOAT, x.shape());
    if (!y.ok()) return y.status();
    const int64_t n = x.num_elements();
    if (n == 0) return absl::OkStatus();
    const int team =
        onednn::UseIntraOpThreads(ctx->device(), static_cast<double>(n) * algorithm_.flops_per_element);
    absl::StatusOr<Primitive> p = GetPrimitive(n, team);
    if (!p.ok()) return p.status();
    try {
      const dnnl::engine& engine = onednn::CpuEngine();
      dnnl::memory src(p->desc, engine, x.raw_data());
      dnnl::memory dst(p->desc, engine, (*y)->raw_data());
      dnnl::stream& stream = onednn::ThreadStream();
      p->eltwise.execute(stream, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
      stream.wait();
    } catch (const dnnl::error& e) {
      return absl::InternalError(
          absl::StrCat("oneDNN eltwise ", algorithm_.op, " failed: ", e.what()));
    }
    return absl::OkStatus();
  }
  bool IsExpensive() const override { return expensive_; }

 private:
  // eltwise_forward needs no scratchpad, so one primitive may run on several threads at once.
  struct Primitive {
    dnnl::eltwise_forward eltwise;
    dnnl::memory::desc desc;
  };

  absl::StatusOr<Primitive> GetPrimitive(int64_t n, int team) {
    const std::pair<int64_t, int> key(n, team);
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    Primitive p;
    try {
      p.desc = dnnl::memory::desc({n}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::a);
      dnnl::eltwise_forward::primitive_desc pd(
          dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_inference, algorithm_.algorithm,
                                      p.desc, algorithm_.alpha, 0.f),
          onednn::CpuEngine());
      p.eltwise = dnnl::eltwise_forward(pd);
    } catch (const dnnl::error& e) {
      return absl::InternalError(absl::StrCat("oneDNN eltwise ", algorithm_.op, " for ", n,
                                              " elements could not be created: ", e.what()));
    }
    cache_.emplace(key, p);
    return p;
  }

  const EltwiseAlgorithm& algorithm_;
  const bool expensive_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::pair<int64_t, int>, Primitive> cache_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

void RegisterCpuOneDnnEltwiseKernels(KernelRegistry& registry) {
  registry.Register({"Tanh", kDeviceCpu, "T", {DT_FLOAT}, FloatArrayKernelFactory(TanhFloatArray)});
  registry.Register(
      {"Sigmoid", kDeviceCpu, "T", {DT_FLOAT}, FloatArrayKernelFactory(SigmoidFloatArray)});
  for (const EltwiseAlgorithm& a : kAlgorithms) {
    const EltwiseAlgorithm* algorithm = &a;
    registry.Register({a.op, kDeviceCpu, "T", {DT_FLOAT},
                       [algorithm](const KernelConstruction& c)
                           -> absl::StatusOr<std::unique_ptr<OpKernel>> {
                         return std::unique_ptr<OpKernel>(new OneDnnEltwiseKernel(c, *algorithm));
                       }});
  }
}

}  // namespace weir
