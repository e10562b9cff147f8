// shape_inference.cc - Driving shape functions over a graph.
#include "graph/shape_inference.h"

#include <algorithm>
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
    // No values at all means zeros (TensorFlow compresses an all-zero tensor that way).
    if (proto.int_val_size() > n) return std::nullopt;
    for (int64_t k = 0; k < n && proto.int_val_size() > 0; ++k) {
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
    if (proto.int64_val_size() > n) return std::nullopt;
    for (int64_t k = 0; k < n && proto.int64_val_size() > 0; ++k) {
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
  // Partly known 1-D integer inputs (shape tensors) for Reshape and friends.
  std::vector<std::optional<std::vector<int64_t>>> partial(n_in);
  bool any_partial = false;
  for (int i = 0; i < n_in; ++i) {
    const Edge* e = node->input_edge(i);
    const PartialValue* p = KnownPartialValue(e->src, e->src_output);
    if (p != nullptr && !p->scalar) {
      partial[i] = p->elements;
      any_partial = true;
    }
  }
  if (any_partial) ctx.set_input_partial_values(std::move(partial));
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
  partial_values_.erase({node->id(), 0});
  RecordPartialValue(node, ctx);
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

const ShapeRefiner::PartialValue* ShapeRefiner::KnownPartialValue(const Node* node,
                                                                   int index) const {
  auto it = partial_values_.find({node->id(), index});
  return it == partial_values_.end() ? nullptr : &it->second;
}

namespace {

bool IsIntType(DataType t) { return t == DT_INT32 || t == DT_INT64; }

// A 1-D StridedSlice of `elements` with constant begin/end/strides (strides > 0, no ellipsis or
// new axis): the elements it selects, or one element when shrink_axis_mask bit 0 is set.
std::optional<std::vector<int64_t>> SliceElements(const std::vector<int64_t>& elements,
                                                  const ShapeContext& ctx, bool* scalar) {
  std::optional<std::vector<int64_t>> begin = ctx.InputAsInts(1), end = ctx.InputAsInts(2),
                                      strides = ctx.InputAsInts(3);
  if (!begin || !end || !strides || begin->size() != 1 || end->size() != 1 ||
      strides->size() != 1 || (*strides)[0] <= 0) {
    return std::nullopt;
  }
  int64_t begin_mask = 0, end_mask = 0, ellipsis_mask = 0, new_axis_mask = 0, shrink = 0;
  ctx.GetAttr("begin_mask", &begin_mask).IgnoreError();
  ctx.GetAttr("end_mask", &end_mask).IgnoreError();
  ctx.GetAttr("ellipsis_mask", &ellipsis_mask).IgnoreError();
  ctx.GetAttr("new_axis_mask", &new_axis_mask).IgnoreError();
  ctx.GetAttr("shrink_axis_mask", &shrink).IgnoreError();
  if (ellipsis_mask != 0 || new_axis_mask != 0) return std::nullopt;
  const int64_t n = static_cast<int64_t>(elements.size());
  auto clamp = [n](int64_t v) {
    if (v < 0) v += n;
    return std::min(std::max<int64_t>(v, 0), n);
  };
  *scalar = (shrink & 1) != 0;
  if (*scalar) {
    int64_t i = (*begin)[0] < 0 ? (*begin)[0] + n : (*begin)[0];
    if (i < 0 || i >= n) return std::nullopt;
    return std::vector<int64_t>{elements[i]};
  }
  const int64_t b = (begin_mask & 1) ? 0 : clamp((*begin)[0]);
  const int64_t e = (end_mask & 1) ? n : clamp((*end)[0]);
  std::vector<int64_t> out;
  for (int64_t i = b; i < e; i += (*strides)[0]) out.push_back(elements[i]);
  return out;
}

}  // namespace

void ShapeRefiner::RecordPartialValue(const Node* node, const ShapeContext& ctx) {
  if (node->num_outputs() < 1 || !IsIntType(node->output_type(0))) return;
  const std::string& op = node->op();
  const int n_in = ctx.num_inputs();
  // The known or partial value of input i, as elements; nullopt when neither.
  auto input_elements = [&](int i, bool* scalar) -> std::optional<std::vector<int64_t>> {
    const Edge* e = node->input_edge(i);
    if (std::optional<std::vector<int64_t>> known = ctx.InputAsInts(i)) {
      for (int64_t v : *known) {
        if (v < 0) return std::nullopt;  // a -1 wildcard would read as "unknown"
      }
      *scalar = ctx.input(i).known_rank() && ctx.input(i).rank() == 0;
      return known;
    }
    const PartialValue* p = KnownPartialValue(e->src, e->src_output);
    if (p == nullptr) return std::nullopt;
    *scalar = p->scalar;
    return p->elements;
  };
  PartialValue value;
  if (op == "Shape" && n_in == 1) {
    const PartialShape& in = ctx.input(0);
    if (!in.known_rank() || in.IsFullyDefined()) return;
    value.elements = in.dims();
  } else if (op == "Pack" && n_in >= 1) {
    int64_t axis = 0;
    ctx.GetAttr("axis", &axis).IgnoreError();
    if (axis != 0 && axis != -1) return;
    bool any_known = false;
    for (int i = 0; i < n_in; ++i) {
      bool scalar = false;
      std::optional<std::vector<int64_t>> el = input_elements(i, &scalar);
      if (el && scalar && el->size() == 1) {
        value.elements.push_back((*el)[0]);
        any_known |= (*el)[0] >= 0;
      } else if (ctx.input(i).known_rank() && ctx.input(i).rank() == 0) {
        if (ctx.InputAsInts(i)) return;  // a negative constant
        value.elements.push_back(PartialShape::kUnknownDim);
      } else {
        return;
      }
    }
    if (!any_known) return;
  } else if (op == "ConcatV2" && n_in >= 2) {
    std::optional<std::vector<int64_t>> axis = ctx.InputAsInts(n_in - 1);
    if (!axis || axis->size() != 1 || ((*axis)[0] != 0 && (*axis)[0] != -1)) return;
    for (int i = 0; i + 1 < n_in; ++i) {
      bool scalar = false;
      std::optional<std::vector<int64_t>> el = input_elements(i, &scalar);
      if (el && !scalar) {
        value.elements.insert(value.elements.end(), el->begin(), el->end());
      } else if (ctx.input(i).known_rank() && ctx.input(i).rank() == 1 &&
                 ctx.input(i).dim(0) >= 0 && !ctx.InputAsInts(i)) {
        value.elements.insert(value.elements.end(), ctx.input(i).dim(0),
                              PartialShape::kUnknownDim);
      } else {
        return;
      }
    }
  } else if (op == "StridedSlice" && n_in == 4) {
    bool scalar = false;
    std::optional<std::vector<int64_t>> el = input_elements(0, &scalar);
    if (!el || scalar) return;
    std::optional<std::vector<int64_t>> sliced = SliceElements(*el, ctx, &value.scalar);
    if (!sliced) return;
    value.elements = std::move(*sliced);
  } else if ((op == "Identity" || op == "Cast") && n_in == 1) {
    const Edge* e = node->input_edge(0);
    const PartialValue* p = KnownPartialValue(e->src, e->src_output);
    if (p == nullptr) return;
    value = *p;
  } else {
    return;
  }
  partial_values_[{node->id(), 0}] = std::move(value);
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
