// nn_grad.h - Launchers for the training step's gradient and loss ops: the activation
// gradients (ReluGrad, Relu6Grad, SigmoidGrad, TanhGrad) and the softmax cross-entropy losses
// with their gradient (SparseSoftmaxCrossEntropyWithLogits, SoftmaxCrossEntropyWithLogits).
// BiasAddGrad needs no launcher of its own: it is a Sum over every axis but the channel one
// (reduction.h).
//
// The formulas are the CPU kernels' (kernels/cpu/nn_grad_kernels.cc, loss_kernels.cc), written
// in the same order of operations, so results agree to the last bit or nearly (the CPU build
// has no FMA; where a product feeds an addition the kernels round it explicitly).
#ifndef WEIR_KERNELS_GPU_NN_GRAD_H_
#define WEIR_KERNELS_GPU_NN_GRAD_H_

#include <cstdint>

#include "kernels/gpu/gpu_status.h"

namespace weir {
namespace gpu {

// (a, b) -> out, elementwise over n elements:
//   kReluGrad    (gradients, features): features > 0 ? gradients : 0
//   kRelu6Grad   (gradients, features): 0 < features < 6 ? gradients : 0
//   kSigmoidGrad (y, dy), y = sigmoid(x): dy * y * (1 - y)
//   kTanhGrad    (y, dy), y = tanh(x):    dy * (1 - y * y)
// A NaN feature gives 0 (the comparisons are false), as on the CPU.
enum class ActivationGradOp { kReluGrad, kRelu6Grad, kSigmoidGrad, kTanhGrad };

const char* ActivationGradOpName(ActivationGradOp op);

// `out` may be `a` or `b` (each element is read before it is written). T is float, int32_t or
// int64_t; integers take kReluGrad and kRelu6Grad only (an error otherwise).
template <typename T>
GpuStatus LaunchActivationGrad(ActivationGradOp op, const T* a, const T* b, T* out, int64_t n,
                               GpuStream stream);

// Per row r of float logits [rows, classes], with p = softmax(logits[r]):
//   loss[r] = logsumexp(logits[r]) - logits[r, labels[r]]
//   backprop[r] = p - one_hot(labels[r])
// The row's exponentials are summed in double and logsumexp taken in double, as the CPU
// kernel does. A label outside [0, classes) cannot be reported without waiting for the stream:
// that row's loss and backprop are NaN instead (TensorFlow's GPU kernel does the same; the
// CPU kernel fails). Label is int32_t or int64_t. The outputs must not overlap the inputs.
template <typename Label>
GpuStatus LaunchSparseSoftmaxCrossEntropy(const float* logits, const Label* labels, int64_t rows,
                                          int64_t classes, float* loss, float* backprop,
                                          GpuStream stream);

// As above with dense labels [rows, classes] (a distribution per row, not checked):
//   loss[r] = sum_j labels[r, j] * (logsumexp(logits[r]) - logits[r, j])
//   backprop[r] = p - labels[r]
// A row of zero classes has loss 0.
GpuStatus LaunchSoftmaxCrossEntropy(const float* logits, const float* labels, int64_t rows,
                                    int64_t classes, float* loss, float* backprop,
                                    GpuStream stream);

}  // namespace gpu
}  // namespace weir

#endif  // WEIR_KERNELS_GPU_NN_GRAD_H_
