// activation_kernels.cc - Elementwise activations on the CPU: Relu6, LeakyRelu, Elu, Selu and
// Softplus (float32 and float64), with TensorFlow's formulas.
#include <cmath>
#include <limits>

#include "kernels/cpu/conv_kernels.h"
#include "kernels/cpu/registry.h"

namespace weir {
namespace {

// Applies `Fn::Apply(x, alpha)` to every element of input 0.
template <typename T, typename Fn>
class ActivationKernel : public OpKernel {
 public:
  explicit ActivationKernel(const KernelConstruction& c) : OpKernel(c) {
    c.GetAttr("alpha", &alpha_).IgnoreError();
  }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& features = ctx->input(0);
    absl::StatusOr<Tensor*> output = ctx->forward_input_or_allocate_output(
        0, 0, DataTypeToEnum<T>::value, features.shape());
    if (!output.ok()) return output.status();
    const T* in = features.data<T>();
    T* out = (*output)->template data<T>();
    const T alpha = static_cast<T>(alpha_);
    const int64_t n = features.num_elements();
    for (int64_t i = 0; i < n; ++i) out[i] = Fn::Apply(in[i], alpha);
    return absl::OkStatus();
  }

 private:
  float alpha_ = 0.2f;
};

struct Relu6Fn {
  template <typename T>
  static T Apply(T x, T) {
    return std::min(std::max(x, T(0)), T(6));
  }
};

struct LeakyReluFn {
  template <typename T>
  static T Apply(T x, T alpha) {
    return x > T(0) ? x : x * alpha;
  }
};

struct EluFn {
  template <typename T>
  static T Apply(T x, T) {
    return x < T(0) ? std::expm1(x) : x;
  }
};

struct SeluFn {
  template <typename T>
  static T Apply(T x, T) {
    const T scale = static_cast<T>(1.0507009873554804934193349852946);
    const T scale_alpha = static_cast<T>(1.7580993408473768599402175208123);
    return x < T(0) ? scale_alpha * std::expm1(x) : scale * x;
  }
};

// TensorFlow's Softplus avoids overflow and underflow: x when x is large, exp(x) when x is
// very negative, log1p(exp(x)) otherwise; the threshold is log(epsilon) + 2.
struct SoftplusFn {
  template <typename T>
  static T Apply(T x, T) {
    static const T threshold = std::log(std::numeric_limits<T>::epsilon()) + T(2);
    if (x > -threshold) return x;
    if (x < threshold) return std::exp(x);
    return std::log1p(std::exp(x));
  }
};

template <typename Fn>
void RegisterFloatKernels(KernelRegistry& registry, const char* op) {
  registry.Register({op, kDeviceCpu, "T", {DT_FLOAT},
                     MakeFactory<ActivationKernel<float, Fn>>()});
  registry.Register({op, kDeviceCpu, "T", {DT_DOUBLE},
                     MakeFactory<ActivationKernel<double, Fn>>()});
}

}  // namespace

void RegisterCpuActivationKernels(KernelRegistry& registry) {
  RegisterFloatKernels<Relu6Fn>(registry, "Relu6");
  RegisterFloatKernels<LeakyReluFn>(registry, "LeakyRelu");
  // float32 Elu runs on oneDNN's eltwise primitive (eltwise_onednn.cc).
  registry.Register(
      {"Elu", kDeviceCpu, "T", {DT_DOUBLE}, MakeFactory<ActivationKernel<double, EluFn>>()});
  RegisterFloatKernels<SeluFn>(registry, "Selu");
  RegisterFloatKernels<SoftplusFn>(registry, "Softplus");
}

}  // namespace weir
