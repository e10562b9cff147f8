// logging_ops.h - Builder function for Assert (graph/ops/logging_ops.cc).
#ifndef WEIR_BUILDER_LOGGING_OPS_H_
#define WEIR_BUILDER_LOGGING_OPS_H_

#include <cstdint>
#include <vector>

#include "builder/scope.h"

namespace weir {
namespace ops {

// Fails the step with "assertion failed: [..] ..." listing `data` (each summarized to
// `summarize` values) when the scalar `condition` is false. Make the nodes that must wait for
// the check depend on the returned Operation (Scope::WithControlDependencies).
Operation Assert(const Scope& scope, const Output& condition, const std::vector<Output>& data,
                 int64_t summarize = 3);

}  // namespace ops
}  // namespace weir

#endif  // WEIR_BUILDER_LOGGING_OPS_H_
