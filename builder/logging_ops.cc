// logging_ops.cc - Builder function for Assert.
#include "builder/logging_ops.h"

namespace weir {
namespace ops {

Operation Assert(const Scope& scope, const Output& condition, const std::vector<Output>& data,
                 int64_t summarize) {
  NodeBuilder b(scope, "Assert");
  b.Input(condition).Input(data).Attr("summarize", summarize);
  std::vector<DataType> types;
  bool known = true;
  for (const Output& d : data) {
    known &= d.ok();
    if (d.ok()) types.push_back(d.dtype());
  }
  if (known) b.Attr("T", types);
  return b.Finalize();
}

}  // namespace ops
}  // namespace weir
