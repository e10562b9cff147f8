// registry.cc - Assembles the GPU kernel table from its families.
#include "kernels/gpu/ops/gpu_op_util.h"

namespace weir {

void RegisterGpuKernels(KernelRegistry& registry) {
#ifdef WEIR_HAVE_CUDA
  gpu::RegisterGpuCoreKernels(registry);
  gpu::RegisterGpuElementwiseKernels(registry);
  gpu::RegisterGpuMatMulKernels(registry);
  gpu::RegisterGpuArrayKernels(registry);
  gpu::RegisterGpuReductionKernels(registry);
#else
  (void)registry;
#endif
}

}  // namespace weir
