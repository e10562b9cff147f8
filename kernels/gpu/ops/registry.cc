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
  gpu::RegisterGpuNnGradKernels(registry);
#ifdef WEIR_HAVE_CUDNN
  // Without cuDNN in the toolkit conv_ops.cc is not built: those ops stay on the CPU.
  gpu::RegisterGpuConvKernels(registry);
#endif
#else
  (void)registry;
#endif
}

int GpuElementwiseChainArity(const Node& node) {
#ifdef WEIR_HAVE_CUDA
  return gpu::ElementwiseChainArity(node);
#else
  (void)node;
  return 0;
#endif
}

}  // namespace weir
