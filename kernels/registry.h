// registry.h - The kernel tables of every device Weir was built with.
#ifndef WEIR_KERNELS_REGISTRY_H_
#define WEIR_KERNELS_REGISTRY_H_

#include "runtime/kernel_registry.h"

namespace weir {

// Every CPU kernel (kernels/cpu/registry.cc) and, in a build with CUDA, every GPU kernel
// (kernels/gpu/ops/registry.cc), registered once on first use. Tests may add rows for
// test-only ops.
KernelRegistry& DefaultKernelRegistry();

// For the GPU's elementwise-chain fusion (compiler/passes/elementwise_chain.h): 1 when `node`
// is a float unary op the GPU chain kernel runs, 2 for a binary one, 0 otherwise (always 0 in
// a build without CUDA).
int GpuElementwiseChainArity(const Node& node);

}  // namespace weir

#endif  // WEIR_KERNELS_REGISTRY_H_
