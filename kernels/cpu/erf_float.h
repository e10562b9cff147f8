// erf_float.h - float32 erf over an array, as TensorFlow's CPU kernel computes it.
#ifndef WEIR_KERNELS_CPU_ERF_FLOAT_H_
#define WEIR_KERNELS_CPU_ERF_FLOAT_H_

#include <cstdint>

namespace weir {

// Eigen's generic_fast_erf_float, the function TensorFlow's Erf computes for float: the input
// clamped to [-4, 4] (where float's erf is +-1), then x * P(x^2) / Q(x^2) with a degree-13 odd
// numerator and a degree-8 even denominator. NaN stays NaN.
float ErfFloat(float x);

// out[i] = ErfFloat(in[i]) for i < n, 8 lanes at a time with AVX2 + FMA where the CPU has
// them (results may differ from ErfFloat by an ulp from the fused multiply-adds).
// `in` and `out` may be the same array.
void ErfFloatArray(const float* in, float* out, int64_t n);

}  // namespace weir

#endif  // WEIR_KERNELS_CPU_ERF_FLOAT_H_
