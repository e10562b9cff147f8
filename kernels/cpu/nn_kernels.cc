// nn_kernels.cc - Neural-network kernels on the CPU: BiasAdd, Relu, Softmax.
//
// float32 Softmax runs on oneDNN's softmax primitive (vectorized exp, one pass per row, an
// OpenMP team for large inputs): the BERT benchmark's two Softmax over [32,4,16,16] took 300 us
// of 4.2 ms as a scalar loop. BiasAdd, Relu and float64 Softmax are plain loops; fused forms
// belong to the fusion pass.
#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "kernels/cpu/onednn.h"
#include "kernels/cpu/registry.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace weir {
namespace {

template <typename T>
class BiasAddKernel : public OpKernel {
 public:
  explicit BiasAddKernel(const KernelConstruction& c) : OpKernel(c) {
    std::string data_format;
    c.GetAttr("data_format", &data_format).IgnoreError();
    nchw_ = data_format == "NCHW";
  }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& value = ctx->input(0);
    const Tensor& bias = ctx->input(1);
    if (value.rank() < 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input 0 has shape ", value.shape().ToString(), ", expected rank >= 2"));
    }
    if (bias.rank() != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input 1 has shape ", bias.shape().ToString(), ", expected rank 1"));
    }
    const int channel_dim = nchw_ ? 1 : value.rank() - 1;
    const int64_t channels = value.dim(channel_dim);
    if (bias.dim(0) != channels) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input 1 has shape ", bias.shape().ToString(), ", expected [", channels,
          "] (bias size must match ",
          nchw_ ? "dimension 1 of value for data_format NCHW" : "the last dimension of value",
          ")"));
    }
    // In place when value dies here.
    absl::StatusOr<Tensor*> out =
        ctx->forward_input_or_allocate_output(0, 0, value.dtype(), value.shape());
    if (!out.ok()) return out.status();
    if (value.num_elements() == 0) return absl::OkStatus();
    const T* x = value.data<T>();
    const T* b = bias.data<T>();
    T* y = (*out)->data<T>();
    // value viewed as [outer, channels, inner]: NHWC has inner == 1.
    int64_t inner = 1;
    for (int k = channel_dim + 1; k < value.rank(); ++k) inner *= value.dim(k);
    const int64_t outer = value.num_elements() / (channels * inner);
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t c = 0; c < channels; ++c) {
        const T bc = b[c];
        const int64_t base = (o * channels + c) * inner;
        for (int64_t j = 0; j < inner; ++j) y[base + j] = x[base + j] + bc;
      }
    }
    return absl::OkStatus();
  }

 private:
  bool nchw_ = false;
};

template <typename T>
class ReluKernel : public OpKernel {
 public:
  explicit ReluKernel(const KernelConstruction& c) : OpKernel(c) {}

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& in = ctx->input(0);
    absl::StatusOr<Tensor*> out = ctx->forward_input_or_allocate_output(0, 0, in.dtype(), in.shape());
    if (!out.ok()) return out.status();
    const T* x = in.data<T>();
    T* y = (*out)->data<T>();
    const int64_t n = in.num_elements();
    // `x < 0 ? 0 : x` lets NaN through, as TensorFlow's Relu does.
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] < T(0) ? T(0) : x[i];
    return absl::OkStatus();
  }
};

template <typename T>
class SoftmaxKernel : public OpKernel {
 public:
  explicit SoftmaxKernel(const KernelConstruction& c) : OpKernel(c) {}

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& in = ctx->input(0);
    if (in.rank() < 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input 0 has shape ", in.shape().ToString(), ", expected rank >= 1"));
    }
    absl::StatusOr<Tensor*> out = ctx->allocate_output(0, in.dtype(), in.shape());
    if (!out.ok()) return out.status();
    const int64_t depth = in.dim(in.rank() - 1);
    if (in.num_elements() == 0) return absl::OkStatus();
    const int64_t rows = in.num_elements() / depth;
    const T* x = in.data<T>();
    T* y = (*out)->data<T>();
    for (int64_t r = 0; r < rows; ++r) {
      const T* xr = x + r * depth;
      T* yr = y + r * depth;
      // Subtracting the row's max keeps exp() from overflowing; the sum is then >= 1.
      const T max = *std::max_element(xr, xr + depth);
      T sum = 0;
      for (int64_t j = 0; j < depth; ++j) {
        yr[j] = std::exp(xr[j] - max);
        sum += yr[j];
      }
      const T scale = T(1) / sum;
      for (int64_t j = 0; j < depth; ++j) yr[j] *= scale;
    }
    return absl::OkStatus();
  }
};

// float32 Softmax over the last axis on oneDNN, the input viewed as [rows, depth]. Primitives
// are cached per (rows, depth); each execution gets its own scratchpad, so Compute may run
// concurrently.
class OneDnnSoftmaxKernel : public OpKernel {
 public:
  explicit OneDnnSoftmaxKernel(const KernelConstruction& c) : OpKernel(c) {}

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& in = ctx->input(0);
    if (in.rank() < 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input 0 has shape ", in.shape().ToString(), ", expected rank >= 1"));
    }
    absl::StatusOr<Tensor*> out = ctx->allocate_output(0, in.dtype(), in.shape());
    if (!out.ok()) return out.status();
    if (in.num_elements() == 0) return absl::OkStatus();
    const int64_t depth = in.dim(in.rank() - 1);
    const int64_t rows = in.num_elements() / depth;
    // About 10 operations per element (max, subtract, exp, sum, scale).
    const int team = onednn::UseIntraOpThreads(ctx->device(), 10.0 * static_cast<double>(in.num_elements()));
    absl::StatusOr<Primitive> p = GetPrimitive(rows, depth, team);
    if (!p.ok()) return p.status();
    absl::StatusOr<Tensor> scratch = onednn::AllocateScratch(ctx, p->scratchpad_bytes);
    if (!scratch.ok()) return scratch.status();
    try {
      const dnnl::engine& engine = onednn::CpuEngine();
      dnnl::memory src(p->desc, engine, in.raw_data());
      dnnl::memory dst(p->desc, engine, (*out)->raw_data());
      dnnl::memory s_mem(p->scratchpad, engine, scratch->raw_data());
      dnnl::stream& stream = onednn::ThreadStream();
      p->softmax.execute(stream,
                         {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}, {DNNL_ARG_SCRATCHPAD, s_mem}});
      stream.wait();
    } catch (const dnnl::error& e) {
      return absl::InternalError(absl::StrCat("oneDNN softmax failed: ", e.what()));
    }
    return absl::OkStatus();
  }

 private:
  struct Primitive {
    dnnl::softmax_forward softmax;
    dnnl::memory::desc desc, scratchpad;
    size_t scratchpad_bytes = 0;
  };

  absl::StatusOr<Primitive> GetPrimitive(int64_t rows, int64_t depth, int team) {
    const std::array<int64_t, 3> key{rows, depth, team};
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    Primitive p;
    try {
      p.desc = dnnl::memory::desc({rows, depth}, dnnl::memory::data_type::f32,
                                  dnnl::memory::format_tag::ab);
      dnnl::primitive_attr attr;
      attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      dnnl::softmax_forward::primitive_desc pd(
          dnnl::softmax_forward::desc(dnnl::prop_kind::forward_inference, p.desc, 1), attr,
          onednn::CpuEngine());
      p.scratchpad = pd.scratchpad_desc();
      p.scratchpad_bytes = p.scratchpad.get_size();
      p.softmax = dnnl::softmax_forward(pd);
    } catch (const dnnl::error& e) {
      return absl::InternalError(absl::StrCat("oneDNN softmax over [", rows, ",", depth,
                                              "] could not be created: ", e.what()));
    }
    cache_.emplace(key, p);
    return p;
  }

  absl::Mutex mu_;
  absl::flat_hash_map<std::array<int64_t, 3>, Primitive> cache_ ABSL_GUARDED_BY(mu_);
};

// One row per dtype, all under the type attr "T".
template <template <typename> class Kernel, typename... Types>
void RegisterTyped(KernelRegistry& registry, const std::string& op) {
  (registry.Register({op, kDeviceCpu, "T", {DataTypeToEnum<Types>::value},
                      MakeFactory<Kernel<Types>>()}),
   ...);
}

}  // namespace

void RegisterCpuNnKernels(KernelRegistry& registry) {
  RegisterTyped<BiasAddKernel, float, double, int32_t, int64_t>(registry, "BiasAdd");
  RegisterTyped<ReluKernel, float, double, int32_t, int64_t>(registry, "Relu");
  registry.Register({"Softmax", kDeviceCpu, "T", {DT_FLOAT}, MakeFactory<OneDnnSoftmaxKernel>()});
  RegisterTyped<SoftmaxKernel, double>(registry, "Softmax");
}

}  // namespace weir
