// gpu_op_util.cc - Statuses, shapes and constant inputs for the GPU OpKernels.
#include "kernels/gpu/ops/gpu_op_util.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace weir {
namespace gpu {

absl::Status ToStatus(const GpuStatus& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::InternalError(status.message());
}

absl::StatusOr<GpuDims> ToGpuDims(const TensorShape& shape, const std::string& what) {
  if (shape.rank() > kMaxGpuRank) {
    return absl::InvalidArgumentError(absl::StrCat(what, " has shape ", shape.ToString(),
                                                   " of rank ", shape.rank(),
                                                   "; the GPU kernels take rank <= ",
                                                   kMaxGpuRank));
  }
  return GpuDims(shape.dims().data(), shape.rank());
}

absl::StatusOr<Tensor> ConstInputValue(const Node& node, int i) {
  const Edge* edge = i < node.num_inputs() ? node.input_edge(i) : nullptr;
  if (edge == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("input ", i, " is not connected"));
  }
  const Node* src = edge->src;
  if (src->op() != "Const") {
    return absl::InvalidArgumentError(absl::StrCat(
        "input ", i, " comes from ", src->DebugName(),
        ", but the GPU kernel needs it to be a constant (a Const node) it reads when the plan "
        "is built"));
  }
  const TensorProto* proto = nullptr;
  if (auto s = src->GetAttr("value", &proto); !s.ok()) return s;
  return Tensor::FromProto(*proto);
}

absl::StatusOr<std::vector<int64_t>> ConstInputInts(const Node& node, int i) {
  absl::StatusOr<Tensor> value = ConstInputValue(node, i);
  if (!value.ok()) return value.status();
  std::vector<int64_t> out;
  out.reserve(value->num_elements());
  if (value->dtype() == DT_INT32) {
    for (int32_t v : value->flat<int32_t>()) out.push_back(v);
  } else if (value->dtype() == DT_INT64) {
    for (int64_t v : value->flat<int64_t>()) out.push_back(v);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("input ", i, " has dtype ",
                                                   DataTypeString(value->dtype()),
                                                   ", expected int32 or int64"));
  }
  return out;
}

std::function<absl::Status(const Node&)> ConstInputs(std::initializer_list<int> inputs) {
  std::vector<int> list(inputs);
  return [list = std::move(list)](const Node& node) -> absl::Status {
    for (int i : list) {
      if (i >= node.num_inputs()) continue;
      const Edge* edge = node.input_edge(i);
      if (edge == nullptr || edge->src->op() != "Const") {
        return absl::InvalidArgumentError(absl::StrCat(
            "input ", i, " is computed",
            edge == nullptr ? std::string() : absl::StrCat(" by ", edge->src->DebugName()),
            ", and the GPU kernel needs it as a constant"));
      }
    }
    return absl::OkStatus();
  };
}

}  // namespace gpu
}  // namespace weir
