// parallel_for.h - Splits a CPU kernel's loop over the device's intra-op threads.
//
// ParallelFor(device, n, cost_per_unit, fn) runs fn(begin, end) over contiguous chunks that
// together cover [0, n) exactly once, on a team sized by the rule oneDNN's kernels use
// (onednn::IntraOpTeamSize: the device's intra_op_threads shared among the kernels running on
// it, and at most one thread per onednn::kFlopsPerThread of work). A team of one calls
// fn(0, n) on the calling thread with no OpenMP involved. The team is an OpenMP one, the same
// libgomp helper threads that run oneDNN's primitives, so the two never compete for cores.
//
// cost_per_unit is in the units of kFlopsPerThread, calibrated by time rather than by counting
// arithmetic: see kElementwiseCost below. Chunk boundaries fall on multiples of `grain` units
// (16 by default: a 64-byte cache line of floats, so no two threads write one line).
// No allocation per call.
#ifndef WEIR_KERNELS_CPU_PARALLEL_FOR_H_
#define WEIR_KERNELS_CPU_PARALLEL_FOR_H_

#include <cstdint>

#include "absl/functional/function_ref.h"
#include "runtime/device.h"

namespace weir {

// Elements of float in a 64-byte cache line: the default chunk granularity.
inline constexpr int64_t kCacheLineFloats = 16;

// Cost per element of a cheap, memory-bound elementwise loop (add, mul, compare, cast), in
// onednn::kFlopsPerThread's units. Measured on the benchmark's 2-core AMD EPYC: such a loop
// gains from a second thread from about 8K elements per thread (a forked OpenMP team costs
// about 1-2 us while its helper is still spinning), so 2e6 / 8192 ~ 250.
inline constexpr double kElementwiseCost = 250;
// Transcendental array functions (Tanh, Sigmoid, Erf, Exp): about 2-4x a cheap loop per element.
inline constexpr double kTranscendentalCost = 4 * kElementwiseCost;

void ParallelFor(const Device* device, int64_t n, double cost_per_unit, int64_t grain,
                 absl::FunctionRef<void(int64_t begin, int64_t end)> fn);

// The least work (n * cost_per_unit) a team of two takes: 2 * onednn::kFlopsPerThread (checked
// in parallel_for.cc). Below it the loop runs here, inlined, with no call or team lookup: most
// of a graph's small elementwise nodes (the chain benchmark's [16] adds lost 10% without this).
inline constexpr double kMinParallelWork = 4e6;

template <typename Fn>
inline void ParallelFor(const Device* device, int64_t n, double cost_per_unit, Fn&& fn) {
  if (n <= 0) return;
  if (static_cast<double>(n) * cost_per_unit < kMinParallelWork) {
    fn(int64_t{0}, n);
    return;
  }
  ParallelFor(device, n, cost_per_unit, kCacheLineFloats,
              absl::FunctionRef<void(int64_t, int64_t)>(fn));
}

// The chunk each team member gets: ceil(n / team) rounded up to a multiple of grain.
inline int64_t ParallelForChunk(int64_t n, int team, int64_t grain) {
  const int64_t even = (n + team - 1) / team;
  return (even + grain - 1) / grain * grain;
}

}  // namespace weir

#endif  // WEIR_KERNELS_CPU_PARALLEL_FOR_H_
