// logging_ops.cc - Assert: fails the step with its data printed when a condition is false.
//
// TensorFlow graphs use it through control dependencies (tf.debugging.assert_*, often inside an
// AssertGuard conditional), so it has no outputs and is stateful: passes never fold, merge or
// drop it, and pruning keeps it when a kept node waits on it.
#include "absl/strings/str_cat.h"
#include "graph/ops/all_ops.h"
#include "graph/ops/shape_fns.h"

namespace weir {
namespace {

absl::Status AssertShape(ShapeContext* ctx) {
  if (auto s = ctx->WithRank(0, 0); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("condition must be a scalar: ", s.message()));
  }
  return absl::OkStatus();
}

}  // namespace

void RegisterLoggingOps(OpRegistry& registry) {
  registry.Register(OpSpec("Assert")
                        .Input("condition: bool")
                        .Input("data: T")
                        .Attr("T: list(type) >= 1")
                        .Attr("summarize: int = 3")
                        .SetIsStateful()
                        .SetShapeFn(AssertShape));
}

}  // namespace weir
