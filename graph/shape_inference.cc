// shape_inference.cc - Driving shape functions over a graph.
#include "graph/shape_inference.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "graph/ops/control_flow_ops.h"
#include "graph/types.h"

namespace weir {

ShapeContext::ShapeContext(const AttrMap* attrs, std::vector<PartialShape> input_shapes,
                           std::vector<DataType> input_types,
                           std::vector<const TensorProto*> input_values,
                           std::vector<DataType> output_types)
    : attrs_(attrs),
      input_shapes_(std::move(input_shapes)),
      input_types_(std::move(input_types)),
      input_values_(std::move(input_values)),
      output_types_(std::move(output_types)),
      output_shapes_(output_types_.size()) {}

std::optional<std::vector<int64_t>> ShapeContext::InputAsInts(int i) const {
  if (input_values_[i] == nullptr) return std::nullopt;
  return TensorProtoAsInts(*input_values_[i]);
}

absl::Status ShapeContext::WithRank(int i, int rank) const {
  const PartialShape& s = input_shapes_[i];
  if (s.known_rank() && s.rank() != rank) {
    return absl::InvalidArgumentError(absl::StrCat("input ", i, " has shape ", s.ToString(),
                                                   ", expected rank ", rank));
  }
  return absl::OkStatus();
}

absl::Status ShapeContext::WithRankAtLeast(int i, int rank) const {
  const PartialShape& s = input_shapes_[i];
  if (s.known_rank() && s.rank() < rank) {
    return absl::InvalidArgumentError(absl::StrCat("input ", i, " has shape ", s.ToString(),
                                                   ", expected rank >= ", rank));
  }
  return absl::OkStatus();
}

std::optional<std::vector<int64_t>> TensorProtoAsInts(const TensorProto& proto) {
  absl::StatusOr<TensorShape> shape = TensorShape::FromProto(proto.tensor_shape());
  if (!shape.ok()) return std::nullopt;
  const int64_t n = shape->num_elements();
  if (n > (1 << 20)) return std::nullopt;
  std::vector<int64_t> out(n);
  if (proto.dtype() == DT_INT32) {
    if (!proto.tensor_content().empty()) {
      if (proto.tensor_content().size() != static_cast<size_t>(n) * 4) return std::nullopt;
      for (int64_t k = 0; k < n; ++k) {
        int32_t v;
        std::memcpy(&v, proto.tensor_content().data() + 4 * k, 4);
        out[k] = v;
      }
      return out;
    }
    if (n > 0 && proto.int_val_size() == 0) return std::nullopt;
    if (proto.int_val_size() > n) return std::nullopt;
    for (int64_t k = 0; k < n; ++k) {
      out[k] = proto.int_val(std::min<int64_t>(k, proto.int_val_size() - 1));
    }
    return out;
  }
  if (proto.dtype() == DT_INT64) {
    if (!proto.tensor_content().empty()) {
      if (proto.tensor_content().size() != static_cast<size_t>(n) * 8) return std::nullopt;
      std::memcpy(out.data(), proto.tensor_content().data(), 8 * n);
      return out;
    }
    if (n > 0 && proto.int64_val_size() == 0) return std::nullopt;
    if (proto.int64_val_size() > n) return std::nullopt;
    for (int64_t k = 0; k < n; ++k) {
      out[k] = proto.int64_val(std::min<int64_t>(k, proto.int64_val_size() - 1));
    }
    return out;
  }
  return std::nullopt;
}

absl::Status ShapeRefiner::InferNode(Node* node) {
  const int n_in = node->num_inputs();
  std::vector<PartialShape> shapes(n_in);
  std::vector<const TensorProto*> values(n_in, nullptr);
  const bool is_merge = IsMergeOp(node->op());
  int first_forward = -1;  // a Merge's first input that is not a pending back edge
  std::vector<bool> pending_back_edge(n_in, false);
  for (int i = 0; i < n_in; ++i) {
    const Edge* e = node->input_edge(i);
    if (e == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("node ", node->DebugName(), ": input ", i, " is not connected"));
    }
    shapes[i] = e->src->output_shape(e->src_output);
    values[i] = KnownValue(e->src, e->src_output);
    if (is_merge) {
      pending_back_edge[i] =
          IsNextIterationOp(e->src->op()) && !inferred_.contains(e->src->id());
      if (!pending_back_edge[i] && first_forward < 0) first_forward = i;
    }
  }
  // A loop's Merge first sees only its entry: the back edge stands in as a copy of it, and a
  // later pass (InferShapesInOrder) merges in the shape the body produces.
  if (first_forward >= 0) {
    for (int i = 0; i < n_in; ++i) {
      if (pending_back_edge[i]) shapes[i] = shapes[first_forward];
    }
  }
  ShapeContext ctx(&node->attrs(), std::move(shapes), node->input_types(), std::move(values),
                   node->output_types());
  // Resource inputs carry the variable's shape for ReadVariableOp and the optimizer ops.
  std::vector<PartialShape> handle_shapes;
  for (int i = 0; i < n_in; ++i) {
    if (BaseType(node->input_type(i)) != DT_RESOURCE) continue;
    handle_shapes.resize(n_in);
    const Edge* e = node->input_edge(i);
    PartialShape shape;
    if (e->src->op() == "VarHandleOp" && e->src->GetAttr("shape", &shape).ok()) {
      handle_shapes[i] = shape;
    }
  }
  if (!handle_shapes.empty()) ctx.set_input_handle_shapes(std::move(handle_shapes));
  const ShapeFn& fn = node->spec().shape_fn();
  if (fn) {
    absl::Status s = fn(&ctx);
    if (!s.ok()) {
      return absl::Status(s.code(), absl::StrCat("node ", node->DebugName(), ": ", s.message()));
    }
  }
  for (int i = 0; i < node->num_outputs(); ++i) node->set_output_shape(i, ctx.outputs()[i]);
  inferred_.insert(node->id());

  // Remember statically known values for consumers' shape functions (forgetting what an
  // earlier pass over a loop knew).
  values_.erase({node->id(), 0});
  if (node->op() == "Const") {
    const TensorProto* value = nullptr;
    if (node->GetAttr("value", &value).ok()) values_[{node->id(), 0}] = value;
  } else if (node->op() == "Shape" && n_in == 1 && ctx.input(0).IsFullyDefined()) {
    auto proto = std::make_unique<TensorProto>();
    proto->set_dtype(node->output_type(0));
    proto->mutable_tensor_shape()->add_dim()->set_size(ctx.input(0).rank());
    for (int64_t d : ctx.input(0).dims()) {
      if (node->output_type(0) == DT_INT32) {
        proto->add_int_val(static_cast<int32_t>(d));
      } else {
        proto->add_int64_val(d);
      }
    }
    values_[{node->id(), 0}] = proto.get();
    owned_.push_back(std::move(proto));
  }
  return absl::OkStatus();
}

const TensorProto* ShapeRefiner::KnownValue(const Node* node, int index) const {
  auto it = values_.find({node->id(), index});
  return it == values_.end() ? nullptr : it->second;
}

absl::Status InferShapesInOrder(const std::vector<Node*>& order) {
  ShapeRefiner refiner;
  bool has_loops = false;
  for (Node* node : order) {
    if (auto s = refiner.InferNode(node); !s.ok()) return s;
    has_loops |= IsNextIterationOp(node->op());
  }
  if (!has_loops) return absl::OkStatus();
  // Each pass can only make a loop's shapes less specific (a dim or a rank becomes unknown),
  // so this settles within a few passes; the bound guards against a shape function that
  // does not behave that way.
  constexpr int kMaxPasses = 16;
  for (int pass = 0; pass < kMaxPasses; ++pass) {
    bool changed = false;
    for (Node* node : order) {
      const std::vector<PartialShape> before = node->output_shapes();
      if (auto s = refiner.InferNode(node); !s.ok()) return s;
      changed |= before != node->output_shapes();
    }
    if (!changed) break;
  }
  return absl::OkStatus();
}

absl::Status InferShapes(Graph& graph) {
  absl::StatusOr<std::vector<Node*>> order = graph.TopologicalOrder();
  if (!order.ok()) return order.status();
  return InferShapesInOrder(*order);
}

}  // namespace weir
