// all_ops.h - Explicit registration of every op family; OpRegistry::Global() calls this once.
#ifndef WEIR_GRAPH_OPS_ALL_OPS_H_
#define WEIR_GRAPH_OPS_ALL_OPS_H_

#include "graph/op_registry.h"

namespace weir {

void RegisterCoreOps(OpRegistry& registry);   // core_ops.cc: Placeholder, Const, Identity, ...
void RegisterMathOps(OpRegistry& registry);   // math_ops.cc: elementwise, MatMul, reductions
void RegisterArrayOps(OpRegistry& registry);  // array_ops.cc: Reshape, Shape, Transpose, ...
void RegisterNnOps(OpRegistry& registry);     // nn_ops.cc: BiasAdd, Relu, Softmax, ...
void RegisterControlFlowOps(OpRegistry& registry);  // control_flow_ops.cc: Switch, Merge
void RegisterConvOps(OpRegistry& registry);   // conv_ops.cc: Conv2D, pooling, batch norm, ...
void RegisterMathExtraOps(OpRegistry& registry);   // math_extra_ops.cc: comparisons, logic, ...
void RegisterArrayExtraOps(OpRegistry& registry);  // array_extra_ops.cc: slicing, gather, ...
void RegisterRandomOps(OpRegistry& registry);  // random_ops.cc: RandomUniform, ...
void RegisterBatchMatMulOps(OpRegistry& registry);  // batch_matmul_ops.cc: BatchMatMul*
void RegisterStateOps(OpRegistry& registry);  // state_ops.cc: variables, optimizer updates
void RegisterNnGradOps(OpRegistry& registry);  // nn_grad_ops.cc: losses, activation grads, ...
void RegisterTensorArrayOps(OpRegistry& registry);  // tensor_array_ops.cc: TensorArrayV3, ...
void RegisterConvGradOps(OpRegistry& registry);  // conv_grad_ops.cc: Conv2DBackprop*, pool grads
void RegisterImageOps(OpRegistry& registry);  // image_ops.cc: ResizeBilinear, ResizeNearestNeighbor
void RegisterEinsumOps(OpRegistry& registry);  // einsum_ops.cc: Einsum
void RegisterFusedOps(OpRegistry& registry);  // fused_ops.cc: _FusedMatMul, _FusedConv2D, ...
void RegisterLoggingOps(OpRegistry& registry);  // logging_ops.cc: Assert
void RegisterSendRecvOps(OpRegistry& registry);  // sendrecv_ops.cc: _Send, _Recv

inline void RegisterAllOps(OpRegistry& registry) {
  RegisterCoreOps(registry);
  RegisterMathOps(registry);
  RegisterArrayOps(registry);
  RegisterNnOps(registry);
  RegisterControlFlowOps(registry);
  RegisterConvOps(registry);
  RegisterMathExtraOps(registry);
  RegisterArrayExtraOps(registry);
  RegisterBatchMatMulOps(registry);
  RegisterRandomOps(registry);
  RegisterStateOps(registry);
  RegisterNnGradOps(registry);
  RegisterTensorArrayOps(registry);
  RegisterConvGradOps(registry);
  RegisterImageOps(registry);
  RegisterEinsumOps(registry);
  RegisterFusedOps(registry);
  RegisterLoggingOps(registry);
  RegisterSendRecvOps(registry);
}

}  // namespace weir

#endif  // WEIR_GRAPH_OPS_ALL_OPS_H_
