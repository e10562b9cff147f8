// parallel_for.cc - ParallelFor on an OpenMP team (the only file of kernels/ built with
// -fopenmp; see kernels/BUILD).
#include "kernels/cpu/parallel_for.h"

#include <omp.h>

#include "kernels/cpu/onednn.h"

namespace weir {

static_assert(kMinParallelWork == 2 * onednn::kFlopsPerThread,
              "kMinParallelWork is the work at which IntraOpTeamSize gives a team of two");

void ParallelFor(const Device* device, int64_t n, double cost_per_unit, int64_t grain,
                 absl::FunctionRef<void(int64_t begin, int64_t end)> fn) {
  if (n <= 0) return;
  const int team =
      n <= grain ? 1 : onednn::IntraOpTeamSize(device, static_cast<double>(n) * cost_per_unit);
  if (team <= 1) {
    fn(0, n);
    return;
  }
  const int64_t chunk = ParallelForChunk(n, team, grain);
  const int chunks = static_cast<int>((n + chunk - 1) / chunk);
  if (chunks <= 1) {
    fn(0, n);
    return;
  }
  // OpenMP may grant fewer threads than asked (nested inside another team, or a thread limit):
  // each member takes every num_threads-th chunk so that all of them still run.
#pragma omp parallel num_threads(chunks)
  {
    const int members = omp_get_num_threads();
    for (int c = omp_get_thread_num(); c < chunks; c += members) {
      const int64_t begin = c * chunk;
      const int64_t end = begin + chunk < n ? begin + chunk : n;
      fn(begin, end);
    }
  }
}

}  // namespace weir
