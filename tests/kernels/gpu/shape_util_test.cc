// shape_util_test.cc - The host-side shape planning of kernels/gpu (broadcast, reduction and
// transpose collapsing). Plain C++: runs on every machine, GPU or not.
#include "kernels/gpu/shape_util.h"

#include <catch2/catch.hpp>

namespace weir {
namespace gpu {
namespace {

TEST_CASE("broadcast plans collapse dimensions that broadcast alike") {
  BroadcastPlan plan;
  REQUIRE(MakeBroadcastPlan(GpuDims{64, 1, 1, 128}, GpuDims{128}, &plan).ok());
  CHECK(plan.kind == BroadcastPlan::Kind::kGeneral);
  REQUIRE(plan.rank == 2);
  CHECK(plan.out_dims[0] == 64);
  CHECK(plan.out_dims[1] == 128);
  CHECK(plan.lhs_strides[0] == 128);
  CHECK(plan.lhs_strides[1] == 1);
  CHECK(plan.rhs_strides[0] == 0);
  CHECK(plan.rhs_strides[1] == 1);
  CHECK(plan.out_shape.ToString() == "[64,1,1,128]");

  REQUIRE(MakeBroadcastPlan(GpuDims{2, 3, 4}, GpuDims{2, 3, 4}, &plan).ok());
  CHECK(plan.kind == BroadcastPlan::Kind::kSameShape);
  CHECK(plan.rank == 1);
  CHECK(plan.num_elements == 24);

  REQUIRE(MakeBroadcastPlan(GpuDims{}, GpuDims{5, 6}, &plan).ok());
  CHECK(plan.kind == BroadcastPlan::Kind::kLhsScalar);
  REQUIRE(MakeBroadcastPlan(GpuDims{5, 6}, GpuDims{1, 1}, &plan).ok());
  CHECK(plan.kind == BroadcastPlan::Kind::kRhsScalar);
  REQUIRE(MakeBroadcastPlan(GpuDims{}, GpuDims{}, &plan).ok());
  CHECK(plan.kind == BroadcastPlan::Kind::kSameShape);
  CHECK(plan.num_elements == 1);
  REQUIRE(MakeBroadcastPlan(GpuDims{0, 3}, GpuDims{3}, &plan).ok());
  CHECK(plan.kind == BroadcastPlan::Kind::kEmpty);

  // [33,1] x [1,65]: both operands broadcast, in different dimensions.
  REQUIRE(MakeBroadcastPlan(GpuDims{33, 1}, GpuDims{1, 65}, &plan).ok());
  CHECK(plan.kind == BroadcastPlan::Kind::kGeneral);
  CHECK(plan.rank == 2);
  CHECK(plan.lhs_strides[0] == 1);
  CHECK(plan.lhs_strides[1] == 0);
  CHECK(plan.rhs_strides[0] == 0);
  CHECK(plan.rhs_strides[1] == 1);

  const GpuStatus st = MakeBroadcastPlan(GpuDims{3, 4}, GpuDims{2, 4}, &plan);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message() ==
        "incompatible shapes for broadcasting: [3,4] vs [2,4] (dimension 0: 3 vs 2)");
  const GpuStatus rank9 =
      MakeBroadcastPlan(GpuDims{1, 1, 1, 1, 1, 1, 1, 1, 1}, GpuDims{1}, &plan);
  REQUIRE_FALSE(rank9.ok());
  CHECK(rank9.message() == "lhs has rank 9, expected at most 8");
}

TEST_CASE("reduction plans find [outer, reduced, inner]") {
  ReducePlan plan;
  const int64_t axes_12[] = {1, 2};
  REQUIRE(MakeReducePlan(GpuDims{8, 16, 32, 4}, axes_12, 2, &plan).ok());
  CHECK(plan.kind == ReducePlan::Kind::kColumn);
  CHECK(plan.outer == 8);
  CHECK(plan.reduced == 512);
  CHECK(plan.inner == 4);
  CHECK(plan.num_outputs == 32);

  const int64_t last[] = {-1};
  REQUIRE(MakeReducePlan(GpuDims{8, 1, 32}, last, 1, &plan).ok());
  CHECK(plan.kind == ReducePlan::Kind::kRow);
  CHECK(plan.outer == 8);
  CHECK(plan.reduced == 32);

  // Reducing a size-1 axis next to the reduced one still merges: [3,1,5] over {1,2} is a row.
  const int64_t axis_0_2[] = {0, 2};
  REQUIRE(MakeReducePlan(GpuDims{3, 4, 5, 6}, axis_0_2, 2, &plan).ok());
  CHECK(plan.kind == ReducePlan::Kind::kGeneral);
  CHECK(plan.kept_rank == 2);
  CHECK(plan.reduced_rank == 2);
  CHECK(plan.kept_dims[0] == 4);
  CHECK(plan.kept_strides[0] == 30);
  CHECK(plan.reduced_dims[0] == 3);
  CHECK(plan.reduced_strides[0] == 120);
  CHECK(plan.reduced_dims[1] == 5);
  CHECK(plan.reduced_strides[1] == 6);

  const int64_t axis1[] = {1};
  REQUIRE(MakeReducePlan(GpuDims{6, 1, 8}, axis1, 1, &plan).ok());
  CHECK(plan.kind == ReducePlan::Kind::kCopy);
  REQUIRE(MakeReducePlan(GpuDims{5, 0}, axis1, 1, &plan).ok());
  CHECK(plan.kind == ReducePlan::Kind::kFillIdentity);
  CHECK(plan.num_outputs == 5);
  REQUIRE(MakeReducePlan(GpuDims{0, 5}, axis1, 1, &plan).ok());
  CHECK(plan.kind == ReducePlan::Kind::kEmptyOutput);
  REQUIRE(MakeReducePlan(GpuDims{}, nullptr, 0, &plan).ok());
  CHECK(plan.kind == ReducePlan::Kind::kCopy);
  CHECK(plan.num_outputs == 1);

  const int64_t bad[] = {-3};
  const GpuStatus st = MakeReducePlan(GpuDims{2, 3}, bad, 1, &plan);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message() ==
        "reduction axis -3 is out of range for an input of rank 2, expected in [-2, 2)");
}

TEST_CASE("transpose plans merge dimensions that move together") {
  TransposePlan plan;
  const int swap_blocks[] = {2, 3, 0, 1};
  REQUIRE(MakeTransposePlan(GpuDims{4, 5, 6, 7}, swap_blocks, 4, &plan).ok());
  CHECK(plan.kind == TransposePlan::Kind::kSwapLastTwo);
  REQUIRE(plan.rank == 2);
  CHECK(plan.in_dims[0] == 20);
  CHECK(plan.in_dims[1] == 42);

  const int batch_swap[] = {0, 1, 3, 2};
  REQUIRE(MakeTransposePlan(GpuDims{4, 5, 6, 7}, batch_swap, 4, &plan).ok());
  CHECK(plan.kind == TransposePlan::Kind::kSwapLastTwo);
  REQUIRE(plan.rank == 3);
  CHECK(plan.in_dims[0] == 20);

  const int unit_move[] = {0, 1, 3, 2};
  REQUIRE(MakeTransposePlan(GpuDims{6, 4, 1, 5}, unit_move, 4, &plan).ok());
  CHECK(plan.kind == TransposePlan::Kind::kCopy);

  const int general[] = {3, 1, 2, 0};
  REQUIRE(MakeTransposePlan(GpuDims{2, 3, 4, 5}, general, 4, &plan).ok());
  CHECK(plan.kind == TransposePlan::Kind::kGeneral);
  REQUIRE(plan.rank == 3);  // dims 1 and 2 stay together
  CHECK(plan.in_dims[1] == 12);
  CHECK(plan.perm[0] == 2);
  CHECK(plan.perm[1] == 1);
  CHECK(plan.perm[2] == 0);

  const int bad[] = {0, 0};
  const GpuStatus st = MakeTransposePlan(GpuDims{2, 3}, bad, 2, &plan);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message() == "transpose permutation is not a permutation of [0, 2): entry 1 is 0");
}

}  // namespace
}  // namespace gpu
}  // namespace weir
