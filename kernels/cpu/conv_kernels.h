// conv_kernels.h - Shared pieces of the convolution-family CPU kernels (conv_kernels.cc,
// fused_kernels.cc, conv_grad_kernels.cc, pool_kernels.cc, normalization_kernels.cc,
// activation_kernels.cc): the window geometry (kernels/window.h, shared with the GPU kernels)
// and the per-file registration functions that RegisterCpuConvKernels calls. Their oneDNN
// descriptors are in onednn_conv.h.
#ifndef WEIR_KERNELS_CPU_CONV_KERNELS_H_
#define WEIR_KERNELS_CPU_CONV_KERNELS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "runtime/kernel.h"
#include "kernels/window.h"
#include "runtime/kernel_registry.h"

namespace weir {

void RegisterCpuPoolKernels(KernelRegistry& registry);           // pool_kernels.cc
void RegisterCpuNormalizationKernels(KernelRegistry& registry);  // normalization_kernels.cc
void RegisterCpuActivationKernels(KernelRegistry& registry);     // activation_kernels.cc

}  // namespace weir

#endif  // WEIR_KERNELS_CPU_CONV_KERNELS_H_
