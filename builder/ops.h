// ops.h - One builder function per op, named and shaped like TensorFlow's C++ ops:
// `ops::MatMul(scope, a, b, ops::MatMul::Attrs().TransposeB(true))`.
// Each returns the node's output(s); on error the output is invalid (ok() false) and the
// scope's status says why, naming the node and op.
#ifndef WEIR_BUILDER_OPS_H_
#define WEIR_BUILDER_OPS_H_

#include "builder/array_extra_ops.h"
#include "builder/array_ops.h"
#include "builder/batch_matmul_ops.h"
#include "builder/conv_grad_ops.h"
#include "builder/conv_ops.h"
#include "builder/core_ops.h"
#include "builder/einsum_ops.h"
#include "builder/image_ops.h"
#include "builder/logging_ops.h"
#include "builder/math_extra_ops.h"
#include "builder/math_ops.h"
#include "builder/nn_grad_ops.h"
#include "builder/nn_ops.h"
#include "builder/random_ops.h"
#include "builder/scope.h"

#endif  // WEIR_BUILDER_OPS_H_
