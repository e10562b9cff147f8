// registry.h - The kernel tables of every device Weir was built with.
#ifndef WEIR_KERNELS_REGISTRY_H_
#define WEIR_KERNELS_REGISTRY_H_

#include "runtime/kernel_registry.h"

namespace weir {

// Every CPU kernel (kernels/cpu/registry.cc) and, in a build with CUDA, every GPU kernel
// (kernels/gpu/ops/registry.cc), registered once on first use. Tests may add rows for
// test-only ops.
KernelRegistry& DefaultKernelRegistry();

}  // namespace weir

#endif  // WEIR_KERNELS_REGISTRY_H_
