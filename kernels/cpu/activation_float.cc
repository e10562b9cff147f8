// activation_float.cc - Vectorized float32 tanh and sigmoid.
//
// oneDNN 2.6's eltwise tanh / logistic (jit:avx2) took 3.2 ns per element on the benchmark's
// AMD EPYC (its tanh gathers from tables, slow on AMD): 52 us for each of the `wide` model's
// 64 Tanh over 16K floats, 3.5 ms of a 10 ms step. These are FMA polynomials with one division
// per 8 lanes. Written with AVX2 intrinsics as erf_float.cc is (GCC turns the clamps into
// branches and leaves a plain loop scalar); other CPUs take the scalar formulas.
#include "kernels/cpu/activation_float.h"

#include <cmath>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define WEIR_ACTIVATION_AVX2 1
#endif

namespace weir {
namespace {

// tanh: Eigen's generic_fast_tanh_float (Eigen/src/Core/MathFunctionsImpl.h, Eigen 3.4): the
// coefficients of its rational approximation, lowest degree first, and its clamps, the
// smallest x where the approximation evaluates to 1 with fused multiply-adds (the AVX2 path)
// and with separate multiplies and adds (the scalar path on baseline x86-64, which has no FMA).
constexpr float kTanhClampFma = 7.99881172180175781f;
constexpr float kTanhClamp = 7.90531110763549805f;
constexpr float kTanhTiny = 0.0004f;  // below it tanh(x) rounds to x
constexpr float kTanhAlpha[] = {4.89352455891786e-03f,  6.37261928875436e-04f,
                                1.48572235717979e-05f,  5.12229709037114e-08f,
                                -8.60467152213735e-11f, 2.00018790482477e-13f,
                                -2.76076847742355e-16f};
constexpr float kTanhBeta[] = {4.89352518554385e-03f, 2.26843463243900e-03f,
                               1.18534705686654e-04f, 1.19825839466702e-06f};

// exp(y) for y <= 0 as Cephes' expf computes it (Stephen L. Moshier, Cephes Math Library,
// expf.c): y = n ln2 + r with |r| <= ln2 / 2 (ln2 split in a 9-bit high part, so n * hi is
// exact, and a low part), exp(r) = 1 + r + r^2 P(r), times 2^n built in the exponent bits.
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693359375f;
constexpr float kLn2Lo = -2.12194440e-4f;
constexpr float kExpP[] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f,
                           4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};
// ln(2^-126): below it exp is subnormal; the sigmoid of such x is taken as 0.
constexpr float kExpMin = -87.3365447505f;

#ifdef WEIR_ACTIVATION_AVX2
#define WEIR_AVX2_FMA __attribute__((target("avx2,fma")))

struct TanhAvx2 {
  WEIR_AVX2_FMA __m256 operator()(__m256 a) const;
};
struct SigmoidAvx2 {
  WEIR_AVX2_FMA __m256 operator()(__m256 x) const;
};

WEIR_AVX2_FMA inline __m256 TanhAvx2::operator()(__m256 a) const {
  const __m256 x = _mm256_min_ps(_mm256_max_ps(a, _mm256_set1_ps(-kTanhClampFma)),
                                 _mm256_set1_ps(kTanhClampFma));
  const __m256 x2 = _mm256_mul_ps(x, x);
  __m256 p = _mm256_set1_ps(kTanhAlpha[6]);
  for (int k = 5; k >= 0; --k) p = _mm256_fmadd_ps(x2, p, _mm256_set1_ps(kTanhAlpha[k]));
  p = _mm256_mul_ps(x, p);
  __m256 q = _mm256_set1_ps(kTanhBeta[3]);
  for (int k = 2; k >= 0; --k) q = _mm256_fmadd_ps(x2, q, _mm256_set1_ps(kTanhBeta[k]));
  const __m256 r = _mm256_div_ps(p, q);
  // |a| < tiny and NaN (which the clamp turned into -kTanhClampFma) give a itself.
  const __m256 abs_a = _mm256_andnot_ps(_mm256_set1_ps(-0.f), a);
  const __m256 keep = _mm256_cmp_ps(abs_a, _mm256_set1_ps(kTanhTiny), _CMP_NGE_UQ);
  return _mm256_blendv_ps(r, a, keep);
}

// exp(y) for kExpMin <= y <= 0.
WEIR_AVX2_FMA inline __m256 ExpNonPositiveAvx2(__m256 y) {
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(y, _mm256_set1_ps(kLog2e)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Hi), y);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Lo), r);
  __m256 p = _mm256_set1_ps(kExpP[0]);
  for (int k = 1; k < 6; ++k) p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kExpP[k]));
  const __m256 e = _mm256_add_ps(_mm256_fmadd_ps(_mm256_mul_ps(p, r), r, r), _mm256_set1_ps(1.f));
  const __m256i bits = _mm256_slli_epi32(
      _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(e, _mm256_castsi256_ps(bits));
}

WEIR_AVX2_FMA inline __m256 SigmoidAvx2::operator()(__m256 x) const {
  const __m256 sign = _mm256_set1_ps(-0.f);
  const __m256 abs_x = _mm256_andnot_ps(sign, x);
  __m256 e = ExpNonPositiveAvx2(_mm256_max_ps(_mm256_xor_ps(abs_x, sign), _mm256_set1_ps(kExpMin)));
  // exp(-|x|) is 0 past the cut-off (inf included).
  e = _mm256_andnot_ps(_mm256_cmp_ps(abs_x, _mm256_set1_ps(-kExpMin), _CMP_GT_OQ), e);
  // x >= 0: 1 / (1 + e); x < 0 (sign bit set, which blendv reads): e / (1 + e).
  const __m256 num = _mm256_blendv_ps(_mm256_set1_ps(1.f), e, x);
  const __m256 s = _mm256_div_ps(num, _mm256_add_ps(_mm256_set1_ps(1.f), e));
  return _mm256_blendv_ps(s, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

// Applies `f` to 8 floats at a time; the n % 8 left over go through a stack copy, so every
// element takes the same instructions.
template <typename F>
WEIR_AVX2_FMA void ApplyAvx2(const float* in, float* out, int64_t n) {
  const F f;
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, f(_mm256_loadu_ps(in + i)));
  if (i < n) {
    float tail[8] = {};
    std::memcpy(tail, in + i, (n - i) * sizeof(float));
    _mm256_storeu_ps(tail, f(_mm256_loadu_ps(tail)));
    std::memcpy(out + i, tail, (n - i) * sizeof(float));
  }
}

bool HasAvx2() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}
#endif

// The scalar ExpNonPositiveAvx2.
float ExpNonPositive(float y) {
  const float n = std::nearbyint(y * kLog2e);
  float r = y - n * kLn2Hi;
  r = r - n * kLn2Lo;
  float p = kExpP[0];
  for (int k = 1; k < 6; ++k) p = p * r + kExpP[k];
  const float e = (p * r) * r + r + 1.f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  return e * scale;
}

}  // namespace

float TanhFloat(float a) {
  if (!(std::fabs(a) >= kTanhTiny)) return a;  // tiny or NaN
  const float x = a < -kTanhClamp ? -kTanhClamp : (a > kTanhClamp ? kTanhClamp : a);
  const float x2 = x * x;
  float p = kTanhAlpha[6];
  for (int k = 5; k >= 0; --k) p = x2 * p + kTanhAlpha[k];
  p = x * p;
  float q = kTanhBeta[3];
  for (int k = 2; k >= 0; --k) q = x2 * q + kTanhBeta[k];
  return p / q;
}

float SigmoidFloat(float x) {
  if (x != x) return x;
  const float abs_x = std::fabs(x);
  const float e = abs_x > -kExpMin ? 0.f : ExpNonPositive(-abs_x);
  return (std::signbit(x) ? e : 1.f) / (1.f + e);
}

void TanhFloatArray(const float* in, float* out, int64_t n) {
#ifdef WEIR_ACTIVATION_AVX2
  if (HasAvx2()) return ApplyAvx2<TanhAvx2>(in, out, n);
#endif
  for (int64_t i = 0; i < n; ++i) out[i] = TanhFloat(in[i]);
}

void SigmoidFloatArray(const float* in, float* out, int64_t n) {
#ifdef WEIR_ACTIVATION_AVX2
  if (HasAvx2()) return ApplyAvx2<SigmoidAvx2>(in, out, n);
#endif
  for (int64_t i = 0; i < n; ++i) out[i] = SigmoidFloat(in[i]);
}

}  // namespace weir
