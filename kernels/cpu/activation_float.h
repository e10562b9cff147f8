// activation_float.h - float32 tanh and sigmoid over an array, vectorized.
#ifndef WEIR_KERNELS_CPU_ACTIVATION_FLOAT_H_
#define WEIR_KERNELS_CPU_ACTIVATION_FLOAT_H_

#include <cstdint>

namespace weir {

// Eigen's generic_fast_tanh_float, the function TensorFlow's Tanh computes for float: x itself
// for |x| < 0.0004, else the input clamped to [-7.905, 7.905] (where the approximation reaches
// +-1) and x * P(x^2) / Q(x^2) with a degree-13 odd numerator and a degree-6 even denominator.
// The approximation is within 3.5e-8 of tanh; float rounding brings the result to 5 ulp of
// float64 tanh (2.8e-7 absolute, near 1) with FMA, 7 ulp (3.6e-7) in this scalar form.
// NaN stays NaN, +-inf gives +-1.
float TanhFloat(float x);

// The logistic function 1 / (1 + exp(-x)) from e = exp(-|x|) (a Cephes-style polynomial exp):
// 1 / (1 + e) for x >= 0, e / (1 + e) for x < 0, so small results keep their relative
// accuracy (a few ulp) down to x = -87.3; below that (true value under 2^-126) it gives 0.
// NaN stays NaN, +inf gives 1, -inf gives 0.
float SigmoidFloat(float x);

// out[i] = TanhFloat(in[i]) / SigmoidFloat(in[i]) for i < n, 8 lanes at a time with AVX2 + FMA
// where the CPU has them (the last n % 8 elements too, so a value's result does not depend on
// its position; results may differ from the scalar functions by an ulp from the fused
// multiply-adds). `in` and `out` may be the same array.
void TanhFloatArray(const float* in, float* out, int64_t n);
void SigmoidFloatArray(const float* in, float* out, int64_t n);

}  // namespace weir

#endif  // WEIR_KERNELS_CPU_ACTIVATION_FLOAT_H_
