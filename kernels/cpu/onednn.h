// onednn.h - What every oneDNN-backed CPU kernel shares: the engine, a stream per thread,
// scratchpad allocation and the intra-op thread count.
#ifndef WEIR_KERNELS_CPU_ONEDNN_H_
#define WEIR_KERNELS_CPU_ONEDNN_H_

#include <cstddef>

#include "absl/status/statusor.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "runtime/kernel.h"

namespace weir {
namespace onednn {

// One CPU engine for the process; engines are safe to share between threads.
const dnnl::engine& CpuEngine();
// Streams are not shared between threads: each thread keeps its own.
dnnl::stream& ThreadStream();

// A per-call scratchpad (oneDNN's shared scratchpad is not safe when one primitive runs on
// two threads). An empty tensor for 0 bytes; ResourceExhausted when memory runs out.
absl::StatusOr<Tensor> AllocateScratch(KernelContext* ctx, size_t bytes);

// Sizes oneDNN's thread team for the calling thread and returns the size: the device's
// intra_op_threads, divided among the expensive kernels running on the device right now (two
// inter-op threads each running a GEMM get a team of one each instead of oversubscribing the
// cores with two teams of two).
// Debian's oneDNN runs on OpenMP, whose team size is a per-calling-thread setting. Without
// this every executor thread that calls oneDNN gets a team as large as the machine, and on a
// busy 2-core machine spinning team members starve each other: the benchmark measured an MLP at
// batch 1 going from 93 us to 24 ms with --threads 2.
// Call it before creating (or looking up) the primitive, and make the returned size part of
// the primitive cache's key: oneDNN splits a convolution's work for the team size current
// when the primitive is created and keeps that split, so a primitive created under a team of
// one stays on one thread (the benchmark CNN at batch 1 and 2 threads: 620 -> 380 us).
int UseIntraOpThreads(const Device* device);
// The same, sized to the work as well: one thread per kFlopsPerThread of floating-point work.
// A team for a tiny GEMM costs more in fork/join than it saves.
inline constexpr double kFlopsPerThread = 2e6;
int UseIntraOpThreads(const Device* device, double flops);
// The team size UseIntraOpThreads(device, flops) picks, without touching OpenMP's setting:
// the rule Weir's own parallel loops share (kernels/cpu/parallel_for.h).
int IntraOpTeamSize(const Device* device, double flops);
// The work of a [m,k] x [k,n] GEMM for UseIntraOpThreads: its flops, but at least 4 per byte of
// B, which it streams from memory -- a GEMV (m = 1) is bound by that read, and two threads
// read B through two cores' caches nearly twice as fast ([1,784]x[784,512]: 38 -> 20 us).
inline double GemmWork(int64_t m, int64_t k, int64_t n) {
  const double flops = 2.0 * static_cast<double>(m) * k * n;
  const double b_bytes = 4.0 * static_cast<double>(k) * n;
  return flops > 4 * b_bytes ? flops : 4 * b_bytes;
}

}  // namespace onednn
}  // namespace weir

#endif  // WEIR_KERNELS_CPU_ONEDNN_H_
