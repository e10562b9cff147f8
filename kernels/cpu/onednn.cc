// onednn.cc - Shared oneDNN engine, streams, scratchpads and thread sizing.
#include "kernels/cpu/onednn.h"

#include <algorithm>

#include <omp.h>

#include "absl/strings/str_cat.h"

namespace weir {
namespace onednn {

const dnnl::engine& CpuEngine() {
  static const dnnl::engine* engine = new dnnl::engine(dnnl::engine::kind::cpu, 0);
  return *engine;
}

dnnl::stream& ThreadStream() {
  thread_local dnnl::stream stream(CpuEngine());
  return stream;
}

absl::StatusOr<Tensor> AllocateScratch(KernelContext* ctx, size_t bytes) {
  if (bytes == 0) return Tensor();
  Tensor t(ctx->device()->allocator(), DT_UINT8, TensorShape{static_cast<int64_t>(bytes)});
  if (t.raw_data() == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrCat("out of memory allocating ", bytes, " bytes of scratch memory"));
  }
  return t;
}

namespace {

void SetTeamSize(int wanted) {
  thread_local int current = -1;
  if (wanted != current) {
    omp_set_num_threads(wanted);
    current = wanted;
  }
}

// The device's threads shared among the kernels running on it now, this one included.
int FairShare(const Device* device) {
  const int running = std::max(1, device->running_kernels_with_caller());
  return std::max(1, device->intra_op_threads() / running);
}

}  // namespace

int UseIntraOpThreads(const Device* device) {
  const int team = FairShare(device);
  SetTeamSize(team);
  return team;
}

int IntraOpTeamSize(const Device* device, double flops) {
  const double by_work = flops / kFlopsPerThread;
  const int limit = FairShare(device);
  return by_work >= limit ? limit : std::max(1, static_cast<int>(by_work));
}

int UseIntraOpThreads(const Device* device, double flops) {
  const int team = IntraOpTeamSize(device, flops);
  SetTeamSize(team);
  return team;
}

}  // namespace onednn
}  // namespace weir
