// array_ops.cc - Array op definitions and shape functions: Reshape, Shape, Transpose,
// ExpandDims, Squeeze, ConcatV2.
//
// Shape functions use statically known input values (a Const, or a Shape of a fully known
// shape) where they can, and otherwise produce the most specific partial shape they can
// prove: a Reshape whose target is unknown but whose length is known has a known rank.
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "graph/ops/all_ops.h"
#include "graph/ops/shape_fns.h"

namespace weir {
namespace {

std::string IntsToString(const std::vector<int64_t>& values) {
  return absl::StrCat("[", absl::StrJoin(values, ","), "]");
}

// Checks that input i is a scalar or a one-element vector (TensorFlow accepts both for
// axis arguments) and returns its value when known.
absl::Status ScalarIndexInput(const ShapeContext* ctx, int i, absl::string_view what,
                              std::optional<int64_t>* value) {
  const PartialShape& s = ctx->input(i);
  if (s.known_rank() && s.rank() > 1) {
    return absl::InvalidArgumentError(absl::StrCat("input ", i, " (", what, ") has shape ",
                                                   s.ToString(), ", expected a scalar"));
  }
  if (s.IsFullyDefined() && s.num_elements() != 1) {
    return absl::InvalidArgumentError(absl::StrCat("input ", i, " (", what, ") has shape ",
                                                   s.ToString(), ", expected a scalar"));
  }
  value->reset();
  if (std::optional<std::vector<int64_t>> v = ctx->InputAsInts(i); v && v->size() == 1) {
    *value = (*v)[0];
  }
  return absl::OkStatus();
}

// Checks `axis` against [-rank, rank) and returns it counted from the front.
absl::Status CanonicalAxis(int64_t axis, int rank, absl::string_view what, int64_t* out) {
  if (axis < -rank || axis >= rank) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is ", axis, ", expected a value in [",
                                                   -rank, ", ", rank, ") for rank ", rank));
  }
  *out = axis < 0 ? axis + rank : axis;
  return absl::OkStatus();
}

absl::Status ReshapeShape(ShapeContext* ctx) {
  if (auto s = ctx->WithRank(1, 1); !s.ok()) return s;
  const PartialShape& in = ctx->input(0);
  std::optional<std::vector<int64_t>> target = ctx->InputAsInts(1);
  if (!target) {
    // A shape tensor built from the input's own Shape and constants (Pack, ConcatV2,
    // StridedSlice): the known sizes, and a single unknown one solved from the element count.
    if (std::optional<std::vector<int64_t>> partial = ctx->InputAsPartialInts(1)) {
      std::vector<int64_t> out = *partial;
      int unknown = -1, num_unknown = 0;
      int64_t known_product = 1;
      for (size_t k = 0; k < out.size(); ++k) {
        if (out[k] < 0) {
          unknown = static_cast<int>(k);
          ++num_unknown;
        } else if (__builtin_mul_overflow(known_product, out[k], &known_product)) {
          return absl::InvalidArgumentError(absl::StrCat(
              "input 1 (shape) is ", IntsToString(out), ", expected fewer than 2^63 elements"));
        }
      }
      const int64_t n = in.num_elements();
      if (n >= 0 && num_unknown == 0 && known_product != n) {
        return absl::InvalidArgumentError(absl::StrCat("cannot reshape ", in.ToString(), " (", n,
                                                       " elements) to ", IntsToString(out), " (",
                                                       known_product, " elements)"));
      }
      if (n >= 0 && num_unknown == 1 && known_product > 0 && n % known_product == 0) {
        out[unknown] = n / known_product;
      }
      ctx->set_output(0, PartialShape(std::move(out)));
      return absl::OkStatus();
    }
    // The target's length is the output's rank even when its values are unknown.
    const PartialShape& shape_shape = ctx->input(1);
    if (shape_shape.known_rank() && shape_shape.dim(0) >= 0) {
      ctx->set_output(0, PartialShape::UnknownOfRank(static_cast<int>(shape_shape.dim(0))));
    } else {
      ctx->set_output(0, PartialShape::Unknown());
    }
    return absl::OkStatus();
  }
  int inferred = -1;
  int64_t known_product = 1;
  for (size_t k = 0; k < target->size(); ++k) {
    int64_t d = (*target)[k];
    if (d == -1) {
      if (inferred >= 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "input 1 (shape) is ", IntsToString(*target), ", expected at most one -1"));
      }
      inferred = static_cast<int>(k);
    } else if (d < -1) {
      return absl::InvalidArgumentError(absl::StrCat("input 1 (shape) is ", IntsToString(*target),
                                                     ", expected sizes >= -1"));
    } else if (__builtin_mul_overflow(known_product, d, &known_product)) {
      return absl::InvalidArgumentError(absl::StrCat("input 1 (shape) is ", IntsToString(*target),
                                                     ", expected fewer than 2^63 elements"));
    }
  }
  std::vector<int64_t> out = *target;
  const int64_t n = in.num_elements();
  if (n >= 0) {
    if (inferred >= 0) {
      if (known_product == 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "cannot reshape ", in.ToString(), " to ", IntsToString(*target),
            ": the -1 is ambiguous when the other sizes multiply to 0"));
      }
      if (n % known_product != 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "cannot reshape ", in.ToString(), " (", n, " elements) to ", IntsToString(*target),
            ": ", n, " is not a multiple of ", known_product));
      }
      out[inferred] = n / known_product;
    } else if (known_product != n) {
      return absl::InvalidArgumentError(absl::StrCat("cannot reshape ", in.ToString(), " (", n,
                                                     " elements) to ", IntsToString(*target),
                                                     " (", known_product, " elements)"));
    }
  }
  // Otherwise the -1 stays unknown, which is PartialShape's unknown dimension.
  ctx->set_output(0, PartialShape(std::move(out)));
  return absl::OkStatus();
}

absl::Status ShapeShape(ShapeContext* ctx) {
  const PartialShape& in = ctx->input(0);
  ctx->set_output(0, PartialShape({in.known_rank() ? in.rank() : PartialShape::kUnknownDim}));
  return absl::OkStatus();
}

// Checks that `perm` is a permutation of [0, rank); messages name what is wrong.
absl::Status CheckPermutation(const std::vector<int64_t>& perm, int rank) {
  if (static_cast<int>(perm.size()) != rank) {
    return absl::InvalidArgumentError(absl::StrCat("input 1 (perm) is ", IntsToString(perm),
                                                   " with ", perm.size(),
                                                   " entries, expected ", rank,
                                                   " (the rank of input 0)"));
  }
  std::vector<bool> seen(rank, false);
  for (int k = 0; k < rank; ++k) {
    int64_t d = perm[k];
    if (d < 0 || d >= rank) {
      return absl::InvalidArgumentError(absl::StrCat("input 1 (perm) is ", IntsToString(perm),
                                                     ": entry ", k, " is ", d,
                                                     ", expected a value in [0, ", rank, ")"));
    }
    if (seen[d]) {
      return absl::InvalidArgumentError(absl::StrCat("input 1 (perm) is ", IntsToString(perm),
                                                     ": ", d,
                                                     " appears twice, expected a permutation"));
    }
    seen[d] = true;
  }
  return absl::OkStatus();
}

absl::Status TransposeShape(ShapeContext* ctx) {
  if (auto s = ctx->WithRank(1, 1); !s.ok()) return s;
  const PartialShape& in = ctx->input(0);
  const PartialShape& perm_shape = ctx->input(1);
  int rank = in.rank();
  if (rank < 0 && perm_shape.known_rank()) rank = static_cast<int>(perm_shape.dim(0));
  if (in.known_rank() && perm_shape.known_rank() && perm_shape.dim(0) >= 0 &&
      perm_shape.dim(0) != in.rank()) {
    return absl::InvalidArgumentError(absl::StrCat("input 1 (perm) has shape ",
                                                   perm_shape.ToString(), ", expected [",
                                                   in.rank(), "] (the rank of input 0)"));
  }
  if (rank < 0) {
    ctx->set_output(0, PartialShape::Unknown());
    return absl::OkStatus();
  }
  std::optional<std::vector<int64_t>> perm = ctx->InputAsInts(1);
  if (!perm) {
    ctx->set_output(0, PartialShape::UnknownOfRank(rank));
    return absl::OkStatus();
  }
  if (auto s = CheckPermutation(*perm, rank); !s.ok()) return s;
  std::vector<int64_t> out(rank, PartialShape::kUnknownDim);
  if (in.known_rank()) {
    for (int k = 0; k < rank; ++k) out[k] = in.dim(static_cast<int>((*perm)[k]));
  }
  ctx->set_output(0, PartialShape(std::move(out)));
  return absl::OkStatus();
}

absl::Status ExpandDimsShape(ShapeContext* ctx) {
  std::optional<int64_t> dim;
  if (auto s = ScalarIndexInput(ctx, 1, "dim", &dim); !s.ok()) return s;
  const PartialShape& in = ctx->input(0);
  if (!in.known_rank()) {
    ctx->set_output(0, PartialShape::Unknown());
    return absl::OkStatus();
  }
  const int out_rank = in.rank() + 1;
  if (!dim) {
    ctx->set_output(0, PartialShape::UnknownOfRank(out_rank));
    return absl::OkStatus();
  }
  int64_t axis;
  if (auto s = CanonicalAxis(*dim, out_rank, "input 1 (dim)", &axis); !s.ok()) return s;
  std::vector<int64_t> out = in.dims();
  out.insert(out.begin() + axis, 1);
  ctx->set_output(0, PartialShape(std::move(out)));
  return absl::OkStatus();
}

absl::Status SqueezeShape(ShapeContext* ctx) {
  std::vector<int64_t> squeeze_dims;
  if (auto s = ctx->GetAttr("squeeze_dims", &squeeze_dims); !s.ok()) return s;
  const PartialShape& in = ctx->input(0);
  if (!in.known_rank()) {
    ctx->set_output(0, PartialShape::Unknown());
    return absl::OkStatus();
  }
  const int rank = in.rank();
  std::vector<bool> drop(rank, false);
  if (squeeze_dims.empty()) {
    for (int k = 0; k < rank; ++k) {
      // An unknown dimension may or may not be 1, so the output rank is unknown.
      if (in.dim(k) == PartialShape::kUnknownDim) {
        ctx->set_output(0, PartialShape::Unknown());
        return absl::OkStatus();
      }
      drop[k] = in.dim(k) == 1;
    }
  } else {
    for (int64_t d : squeeze_dims) {
      int64_t axis;
      if (auto s = CanonicalAxis(d, rank, "squeeze_dims entry", &axis); !s.ok()) return s;
      if (in.dim(static_cast<int>(axis)) != 1 &&
          in.dim(static_cast<int>(axis)) != PartialShape::kUnknownDim) {
        return absl::InvalidArgumentError(absl::StrCat(
            "cannot squeeze dimension ", d, " of input 0 with shape ", in.ToString(),
            ": expected size 1, found ", in.dim(static_cast<int>(axis))));
      }
      drop[axis] = true;
    }
  }
  std::vector<int64_t> out;
  for (int k = 0; k < rank; ++k) {
    if (!drop[k]) out.push_back(in.dim(k));
  }
  ctx->set_output(0, PartialShape(std::move(out)));
  return absl::OkStatus();
}

absl::Status ConcatV2Shape(ShapeContext* ctx) {
  const int n = ctx->num_inputs() - 1;  // the last input is the axis
  std::optional<int64_t> axis_value;
  if (auto s = ScalarIndexInput(ctx, n, "axis", &axis_value); !s.ok()) return s;
  int rank = -1;
  int rank_from = -1;
  for (int i = 0; i < n; ++i) {
    const PartialShape& s = ctx->input(i);
    if (!s.known_rank()) continue;
    if (rank >= 0 && s.rank() != rank) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input ", i, " has shape ", s.ToString(), ", expected rank ", rank, " (input ",
          rank_from, " has shape ", ctx->input(rank_from).ToString(), ")"));
    }
    rank = s.rank();
    rank_from = i;
  }
  if (rank == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input ", rank_from, " is a scalar, expected rank >= 1 (use Pack to join scalars)"));
  }
  if (rank < 0) {
    ctx->set_output(0, PartialShape::Unknown());
    return absl::OkStatus();
  }
  if (!axis_value) {
    ctx->set_output(0, PartialShape::UnknownOfRank(rank));
    return absl::OkStatus();
  }
  int64_t axis;
  if (auto s = CanonicalAxis(*axis_value, rank, "input " + std::to_string(n) + " (axis)", &axis);
      !s.ok()) {
    return s;
  }
  std::vector<int64_t> out(rank, PartialShape::kUnknownDim);
  int64_t axis_sum = 0;
  for (int i = 0; i < n; ++i) {
    const PartialShape& s = ctx->input(i);
    if (!s.known_rank()) {
      axis_sum = PartialShape::kUnknownDim;
      continue;
    }
    for (int k = 0; k < rank; ++k) {
      if (k == axis) continue;
      const int64_t d = s.dim(k);
      if (d == PartialShape::kUnknownDim) continue;
      if (out[k] != PartialShape::kUnknownDim && out[k] != d) {
        std::vector<int64_t> expected = out;
        expected[axis] = PartialShape::kUnknownDim;
        return absl::InvalidArgumentError(absl::StrCat(
            "input ", i, " has shape ", s.ToString(), ", expected ",
            PartialShape(expected).ToString(), " (dimensions other than axis ", axis,
            " must match)"));
      }
      out[k] = d;
    }
    const int64_t along = s.dim(static_cast<int>(axis));
    if (axis_sum != PartialShape::kUnknownDim) {
      axis_sum = along == PartialShape::kUnknownDim ? PartialShape::kUnknownDim
                                                    : axis_sum + along;
    }
  }
  out[axis] = axis_sum;
  ctx->set_output(0, PartialShape(std::move(out)));
  return absl::OkStatus();
}

}  // namespace

void RegisterArrayOps(OpRegistry& registry) {
  registry.Register(OpSpec("Reshape")
                        .Input("tensor: T")
                        .Input("shape: Tshape")
                        .Output("output: T")
                        .Attr("T: type")
                        .Attr("Tshape: {int32, int64} = int32")
                        .SetShapeFn(ReshapeShape));
  registry.Register(OpSpec("Shape")
                        .Input("input: T")
                        .Output("output: out_type")
                        .Attr("T: type")
                        .Attr("out_type: {int32, int64} = int32")
                        .SetShapeFn(ShapeShape));
  registry.Register(OpSpec("Transpose")
                        .Input("x: T")
                        .Input("perm: Tperm")
                        .Output("y: T")
                        .Attr("T: type")
                        .Attr("Tperm: {int32, int64} = int32")
                        .SetShapeFn(TransposeShape));
  registry.Register(OpSpec("ExpandDims")
                        .Input("input: T")
                        .Input("dim: Tdim")
                        .Output("output: T")
                        .Attr("T: type")
                        .Attr("Tdim: {int32, int64} = int32")
                        .SetShapeFn(ExpandDimsShape));
  registry.Register(OpSpec("Squeeze")
                        .Input("input: T")
                        .Output("output: T")
                        .Attr("T: type")
                        .Attr("squeeze_dims: list(int) >= 0 = []")
                        .SetShapeFn(SqueezeShape));
  registry.Register(OpSpec("ConcatV2")
                        .Input("values: N * T")
                        .Input("axis: Tidx")
                        .Output("output: T")
                        .Attr("N: int >= 2")
                        .Attr("T: type")
                        .Attr("Tidx: {int32, int64} = int32")
                        .SetShapeFn(ConcatV2Shape));
}

}  // namespace weir
