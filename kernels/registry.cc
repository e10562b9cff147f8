// registry.cc - Assembles the per-device kernel tables.
#include "kernels/registry.h"

#include "kernels/cpu/registry.h"
#include "kernels/gpu/ops/gpu_op_util.h"

namespace weir {

KernelRegistry& DefaultKernelRegistry() {
  static KernelRegistry* registry = [] {
    auto* r = new KernelRegistry;
    RegisterCpuKernels(*r);
    RegisterGpuKernels(*r);  // nothing in a build without CUDA
    return r;
  }();
  return *registry;
}

}  // namespace weir
