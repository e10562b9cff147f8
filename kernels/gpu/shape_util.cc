// shape_util.cc - Host-side shape planning for the GPU launchers.
#include "kernels/gpu/shape_util.h"

#include <string>

namespace weir {
namespace gpu {
namespace {

GpuStatus CheckShape(const GpuDims& shape, const char* what) {
  if (shape.rank < 0 || shape.rank > kMaxGpuRank) {
    return GpuStatus::Error(std::string(what) + " has rank " + std::to_string(shape.rank) +
                            ", expected at most " + std::to_string(kMaxGpuRank));
  }
  if (!shape.Valid()) {
    return GpuStatus::Error(std::string(what) + " has a negative dimension: " +
                            shape.ToString());
  }
  return GpuStatus::Ok();
}

}  // namespace

GpuStatus BroadcastShapes(const GpuDims& lhs, const GpuDims& rhs, GpuDims* out) {
  GpuStatus status = CheckShape(lhs, "lhs");
  if (!status.ok()) return status;
  status = CheckShape(rhs, "rhs");
  if (!status.ok()) return status;
  const int rank = lhs.rank > rhs.rank ? lhs.rank : rhs.rank;
  GpuDims result;
  result.rank = rank;
  for (int i = 0; i < rank; ++i) {
    const int li = lhs.rank - rank + i;
    const int ri = rhs.rank - rank + i;
    const int64_t l = li >= 0 ? lhs.dims[li] : 1;
    const int64_t r = ri >= 0 ? rhs.dims[ri] : 1;
    if (l == r || r == 1) {
      result.dims[i] = l;
    } else if (l == 1) {
      result.dims[i] = r;
    } else {
      return GpuStatus::Error("incompatible shapes for broadcasting: " + lhs.ToString() +
                              " vs " + rhs.ToString() + " (dimension " + std::to_string(i) +
                              ": " + std::to_string(l) + " vs " + std::to_string(r) + ")");
    }
  }
  *out = result;
  return GpuStatus::Ok();
}

GpuStatus MakeBroadcastPlan(const GpuDims& lhs, const GpuDims& rhs, BroadcastPlan* plan) {
  GpuDims out;
  GpuStatus status = BroadcastShapes(lhs, rhs, &out);
  if (!status.ok()) return status;
  *plan = BroadcastPlan();
  plan->out_shape = out;
  plan->num_elements = out.NumElements();
  if (plan->num_elements == 0) {
    plan->kind = BroadcastPlan::Kind::kEmpty;
    return GpuStatus::Ok();
  }
  // Collapse: drop output dimensions of size 1, merge neighbours that broadcast the same way.
  int rank = 0;
  int64_t dims[kMaxGpuRank];
  bool lhs_bcast[kMaxGpuRank];
  bool rhs_bcast[kMaxGpuRank];
  for (int i = 0; i < out.rank; ++i) {
    if (out.dims[i] == 1) continue;
    const int li = lhs.rank - out.rank + i;
    const int ri = rhs.rank - out.rank + i;
    const bool lb = li < 0 || lhs.dims[li] == 1;
    const bool rb = ri < 0 || rhs.dims[ri] == 1;
    if (rank > 0 && lhs_bcast[rank - 1] == lb && rhs_bcast[rank - 1] == rb) {
      dims[rank - 1] *= out.dims[i];
    } else {
      dims[rank] = out.dims[i];
      lhs_bcast[rank] = lb;
      rhs_bcast[rank] = rb;
      ++rank;
    }
  }
  bool lhs_any = false, lhs_all = true, rhs_any = false, rhs_all = true;
  for (int i = 0; i < rank; ++i) {
    lhs_any |= lhs_bcast[i];
    lhs_all &= lhs_bcast[i];
    rhs_any |= rhs_bcast[i];
    rhs_all &= rhs_bcast[i];
  }
  plan->rank = rank;
  int64_t lhs_stride = 1, rhs_stride = 1;
  for (int i = rank - 1; i >= 0; --i) {
    plan->out_dims[i] = dims[i];
    plan->lhs_strides[i] = lhs_bcast[i] ? 0 : lhs_stride;
    plan->rhs_strides[i] = rhs_bcast[i] ? 0 : rhs_stride;
    if (!lhs_bcast[i]) lhs_stride *= dims[i];
    if (!rhs_bcast[i]) rhs_stride *= dims[i];
  }
  if (!lhs_any && !rhs_any) {
    plan->kind = BroadcastPlan::Kind::kSameShape;
  } else if (lhs_all && !rhs_any) {
    plan->kind = BroadcastPlan::Kind::kLhsScalar;
  } else if (rhs_all && !lhs_any) {
    plan->kind = BroadcastPlan::Kind::kRhsScalar;
  } else {
    plan->kind = BroadcastPlan::Kind::kGeneral;
  }
  return GpuStatus::Ok();
}

GpuStatus MakeReducePlan(const GpuDims& input, const int64_t* axes, int num_axes,
                         ReducePlan* plan) {
  GpuStatus status = CheckShape(input, "input");
  if (!status.ok()) return status;
  bool is_reduced[kMaxGpuRank] = {};
  for (int i = 0; i < num_axes; ++i) {
    int64_t axis = axes[i];
    if (axis < -input.rank || axis >= input.rank) {
      return GpuStatus::Error("reduction axis " + std::to_string(axis) + " is out of range" +
                              " for an input of rank " + std::to_string(input.rank) +
                              ", expected in [" + std::to_string(-input.rank) + ", " +
                              std::to_string(input.rank) + ")");
    }
    if (axis < 0) axis += input.rank;
    is_reduced[axis] = true;
  }
  *plan = ReducePlan();
  int64_t num_outputs = 1, num_reduced = 1;
  for (int i = 0; i < input.rank; ++i) {
    (is_reduced[i] ? num_reduced : num_outputs) *= input.dims[i];
  }
  plan->num_outputs = num_outputs;
  plan->reduced = num_reduced;
  if (num_outputs == 0) {
    plan->kind = ReducePlan::Kind::kEmptyOutput;
    return GpuStatus::Ok();
  }
  if (num_reduced == 0) {
    plan->kind = ReducePlan::Kind::kFillIdentity;
    return GpuStatus::Ok();
  }
  // Collapse: size-1 dimensions vanish, neighbours with the same role merge.
  int rank = 0;
  int64_t dims[kMaxGpuRank];
  bool reduced[kMaxGpuRank];
  for (int i = 0; i < input.rank; ++i) {
    if (input.dims[i] == 1) continue;
    if (rank > 0 && reduced[rank - 1] == is_reduced[i]) {
      dims[rank - 1] *= input.dims[i];
    } else {
      dims[rank] = input.dims[i];
      reduced[rank] = is_reduced[i];
      ++rank;
    }
  }
  int num_reduced_groups = 0;
  for (int i = 0; i < rank; ++i) num_reduced_groups += reduced[i] ? 1 : 0;
  if (num_reduced_groups == 0) {
    plan->kind = ReducePlan::Kind::kCopy;
    return GpuStatus::Ok();
  }
  // The patterns [R], [K,R], [R,K], [K,R,K] are [outer, reduced, inner].
  const bool leading_kept = !reduced[0];
  const int reduced_pos = leading_kept ? 1 : 0;
  const bool one_block = num_reduced_groups == 1 && rank - reduced_pos <= 2;
  if (one_block) {
    plan->outer = leading_kept ? dims[0] : 1;
    plan->inner = reduced_pos + 1 < rank ? dims[reduced_pos + 1] : 1;
    plan->kind = plan->inner == 1 ? ReducePlan::Kind::kRow : ReducePlan::Kind::kColumn;
    return GpuStatus::Ok();
  }
  plan->kind = ReducePlan::Kind::kGeneral;
  int64_t stride = 1;
  int64_t strides[kMaxGpuRank];
  for (int i = rank - 1; i >= 0; --i) {
    strides[i] = stride;
    stride *= dims[i];
  }
  for (int i = 0; i < rank; ++i) {
    if (reduced[i]) {
      plan->reduced_dims[plan->reduced_rank] = dims[i];
      plan->reduced_strides[plan->reduced_rank] = strides[i];
      ++plan->reduced_rank;
    } else {
      plan->kept_dims[plan->kept_rank] = dims[i];
      plan->kept_strides[plan->kept_rank] = strides[i];
      ++plan->kept_rank;
    }
  }
  return GpuStatus::Ok();
}

GpuStatus MakeTransposePlan(const GpuDims& input, const int* perm, int perm_size,
                            TransposePlan* plan) {
  GpuStatus status = CheckShape(input, "input");
  if (!status.ok()) return status;
  if (perm_size != input.rank) {
    return GpuStatus::Error("transpose permutation has " + std::to_string(perm_size) +
                            " entries, expected " + std::to_string(input.rank) +
                            " (the input's rank)");
  }
  bool seen[kMaxGpuRank] = {};
  for (int i = 0; i < perm_size; ++i) {
    if (perm[i] < 0 || perm[i] >= input.rank || seen[perm[i]]) {
      return GpuStatus::Error("transpose permutation is not a permutation of [0, " +
                              std::to_string(input.rank) + "): entry " + std::to_string(i) +
                              " is " + std::to_string(perm[i]));
    }
    seen[perm[i]] = true;
  }
  *plan = TransposePlan();
  plan->num_elements = input.NumElements();
  if (plan->num_elements == 0) {
    plan->kind = TransposePlan::Kind::kEmpty;
    return GpuStatus::Ok();
  }
  // Drop size-1 input dimensions and renumber the permutation over the rest.
  int new_index[kMaxGpuRank];
  int kept = 0;
  for (int i = 0; i < input.rank; ++i) new_index[i] = input.dims[i] == 1 ? -1 : kept++;
  int64_t dims[kMaxGpuRank];
  for (int i = 0; i < input.rank; ++i) {
    if (new_index[i] >= 0) dims[new_index[i]] = input.dims[i];
  }
  int p[kMaxGpuRank];
  int rank = 0;
  for (int i = 0; i < perm_size; ++i) {
    if (new_index[perm[i]] >= 0) p[rank++] = new_index[perm[i]];
  }
  // Merge output neighbours whose input dimensions are neighbours in the same order.
  // group_of[input dim] = the merged group it belongs to, in input order.
  bool starts_group[kMaxGpuRank];
  for (int i = 0; i < rank; ++i) starts_group[i] = true;
  for (int i = 1; i < rank; ++i) {
    if (p[i] == p[i - 1] + 1) starts_group[p[i]] = false;
  }
  int group_of[kMaxGpuRank];
  int64_t group_dims[kMaxGpuRank];
  int groups = 0;
  for (int d = 0; d < rank; ++d) {
    if (starts_group[d]) {
      group_dims[groups] = dims[d];
      ++groups;
    } else {
      group_dims[groups - 1] *= dims[d];
    }
    group_of[d] = groups - 1;
  }
  plan->rank = groups;
  int out_groups = 0;
  for (int i = 0; i < rank; ++i) {
    if (starts_group[p[i]]) plan->perm[out_groups++] = group_of[p[i]];
  }
  bool identity = true;
  for (int i = 0; i < groups; ++i) {
    plan->in_dims[i] = group_dims[i];
    identity &= plan->perm[i] == i;
  }
  if (identity) {
    plan->kind = TransposePlan::Kind::kCopy;
  } else if (groups >= 2 && plan->perm[groups - 1] == groups - 2 &&
             plan->perm[groups - 2] == groups - 1 &&
             (groups == 2 || (groups == 3 && plan->perm[0] == 0))) {
    plan->kind = TransposePlan::Kind::kSwapLastTwo;
  } else {
    plan->kind = TransposePlan::Kind::kGeneral;
  }
  return GpuStatus::Ok();
}

}  // namespace gpu
}  // namespace weir
