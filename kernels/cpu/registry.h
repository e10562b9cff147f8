// registry.h - The CPU kernel table and the kernel classes it names.
#ifndef WEIR_KERNELS_CPU_REGISTRY_H_
#define WEIR_KERNELS_CPU_REGISTRY_H_

#include "runtime/kernel_registry.h"

namespace weir {

// Adds one row per CPU kernel: {op, "CPU", type attr, dtypes, factory}.
void RegisterCpuKernels(KernelRegistry& registry);

// Per-family row lists, each defined beside its kernels.
void RegisterCpuCoreKernels(KernelRegistry& registry);         // core_kernels.cc
void RegisterCpuElementwiseKernels(KernelRegistry& registry);  // elementwise.cc
void RegisterCpuMatMulKernels(KernelRegistry& registry);       // matmul.cc
void RegisterCpuReductionKernels(KernelRegistry& registry);    // reduction.cc
void RegisterCpuArrayKernels(KernelRegistry& registry);        // array_kernels.cc
void RegisterCpuNnKernels(KernelRegistry& registry);           // nn_kernels.cc
void RegisterCpuControlFlowKernels(KernelRegistry& registry);  // control_flow_kernels.cc
void RegisterCpuConvKernels(KernelRegistry& registry);         // conv_kernels.cc (+ pool, norm)
void RegisterCpuMathExtraKernels(KernelRegistry& registry);    // math_extra_kernels.cc
void RegisterCpuArrayExtraKernels(KernelRegistry& registry);   // array_extra_kernels.cc
void RegisterCpuRandomKernels(KernelRegistry& registry);       // random_kernels.cc
void RegisterCpuBatchMatMulKernels(KernelRegistry& registry);  // batch_matmul_kernels.cc
void RegisterCpuVariableKernels(KernelRegistry& registry);     // variable_kernels.cc
void RegisterCpuTrainingKernels(KernelRegistry& registry);     // training_kernels.cc
void RegisterCpuLossKernels(KernelRegistry& registry);         // loss_kernels.cc
void RegisterCpuNnGradKernels(KernelRegistry& registry);       // nn_grad_kernels.cc
void RegisterCpuFusedKernels(KernelRegistry& registry);        // fused_kernels.cc
void RegisterCpuOneDnnEltwiseKernels(KernelRegistry& registry);  // eltwise_onednn.cc (float32)
void RegisterCpuConvGradKernels(KernelRegistry& registry);     // conv_grad_kernels.cc
void RegisterCpuImageKernels(KernelRegistry& registry);        // image_kernels.cc
void RegisterCpuEinsumKernels(KernelRegistry& registry);       // einsum_kernels.cc
void RegisterCpuTensorArrayKernels(KernelRegistry& registry);  // tensor_array_kernels.cc
void RegisterCpuLoggingKernels(KernelRegistry& registry);      // logging_kernels.cc (Assert)
void RegisterCpuSendRecvKernels(KernelRegistry& registry);     // sendrecv_kernels.cc

}  // namespace weir

#endif  // WEIR_KERNELS_CPU_REGISTRY_H_
