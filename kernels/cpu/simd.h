// simd.h - WEIR_VECTORIZED: marks a hot loop function for AVX2/FMA code with a run-time
// fallback, for the plain loops no library covers (elementwise math, Erf, reductions).
//
// The project builds at -O2 for baseline x86-64 (SSE2), where GCC 12's "very cheap" vector cost
// model leaves loops of unknown trip count scalar. The attribute compiles the function twice,
// once for Haswell-class CPUs (AVX2 + FMA, every x86-64 server since 2013) and once for the
// baseline, picks one at load time (an ifunc), and optimizes both at -O3 so the loops are
// vectorized. Measured on the BERT benchmark's elementwise ops: see the commit message.
#ifndef WEIR_KERNELS_CPU_SIMD_H_
#define WEIR_KERNELS_CPU_SIMD_H_

// Not under ThreadSanitizer: the clones' ifunc resolvers run during relocation, before the
// TSan runtime is up, and its instrumentation of them crashes the process (tools/tsan.sh).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_THREAD__)
#define WEIR_VECTORIZED \
  __attribute__((target_clones("arch=haswell", "default"), optimize("O3")))
#else
#define WEIR_VECTORIZED
#endif

#endif  // WEIR_KERNELS_CPU_SIMD_H_
