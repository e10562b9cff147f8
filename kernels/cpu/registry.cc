// registry.cc - The CPU kernel table: every family's rows, in one explicit list.
#include "kernels/cpu/registry.h"

namespace weir {

void RegisterCpuKernels(KernelRegistry& registry) {
  RegisterCpuCoreKernels(registry);
  RegisterCpuElementwiseKernels(registry);
  RegisterCpuMatMulKernels(registry);
  RegisterCpuReductionKernels(registry);
  RegisterCpuArrayKernels(registry);
  RegisterCpuNnKernels(registry);
  RegisterCpuControlFlowKernels(registry);
  RegisterCpuConvKernels(registry);
  RegisterCpuMathExtraKernels(registry);
  RegisterCpuArrayExtraKernels(registry);
  RegisterCpuBatchMatMulKernels(registry);
  RegisterCpuRandomKernels(registry);
  RegisterCpuVariableKernels(registry);
  RegisterCpuTrainingKernels(registry);
  RegisterCpuLossKernels(registry);
  RegisterCpuNnGradKernels(registry);
  RegisterCpuFusedKernels(registry);
  RegisterCpuOneDnnEltwiseKernels(registry);
  RegisterCpuConvGradKernels(registry);
  RegisterCpuImageKernels(registry);
  RegisterCpuEinsumKernels(registry);
  RegisterCpuTensorArrayKernels(registry);
  RegisterCpuLoggingKernels(registry);
  RegisterCpuSendRecvKernels(registry);
}

}  // namespace weir
