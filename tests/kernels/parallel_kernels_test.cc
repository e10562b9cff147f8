// parallel_kernels_test.cc - Kernels split by ParallelFor (kernels/cpu/parallel_for.h) give
// bit-identical results at intra_op_threads 1, 2 and 3, on random inputs large enough to split:
// elementwise (same shape, scalar and general broadcast), AddN, Tanh/Sigmoid/Erf, Cast,
// reductions over rows and columns, Transpose.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <functional>
#include <random>
#include <vector>

#include "builder/ops.h"
#include "kernels/registry.h"
#include "runtime/device.h"
#include "runtime/kernel.h"
#include "runtime/kernel_registry.h"
#include "tests/kernel_test_util.h"

namespace weir {
namespace {

using testing::RandomFloat;
using testing::RandomInt32;

// Builds the op under test from placeholders of the inputs' dtypes and shapes.
using BuildFn = std::function<Output(const Scope&, const std::vector<Output>&)>;

// Runs the op's kernel on CPU devices of 1, 2 and 3 intra-op threads and checks that every
// output is the same, byte for byte.
void CheckSameAtEveryThreadCount(const std::vector<Tensor>& inputs, const BuildFn& build) {
  Scope scope = Scope::NewRootScope();
  std::vector<Output> placeholders;
  for (size_t i = 0; i < inputs.size(); ++i) {
    placeholders.push_back(ops::Placeholder(scope.WithOpName("input_" + std::to_string(i)),
                                            inputs[i].dtype(), PartialShape(inputs[i].shape())));
  }
  Output op = build(scope.WithOpName("op"), placeholders);
  REQUIRE(scope.ok());
  std::vector<Tensor> reference;
  for (int threads : {1, 2, 3}) {
    CAPTURE(threads);
    CpuDevice device(threads);
    auto kernel = CreateKernel(DefaultKernelRegistry(), *op.node(), &device);
    REQUIRE(kernel.ok());
    // Copies share the buffers, so no kernel writes over an input in place.
    std::vector<Tensor> run_inputs = inputs;
    std::vector<Tensor> outputs(op.node()->num_outputs());
    KernelContext ctx(&device, nullptr, &run_inputs, &outputs);
    REQUIRE((*kernel)->Compute(&ctx).ok());
    if (threads == 1) {
      reference = outputs;
      continue;
    }
    for (size_t i = 0; i < outputs.size(); ++i) {
      REQUIRE(outputs[i].shape() == reference[i].shape());
      REQUIRE(outputs[i].dtype() == reference[i].dtype());
      CHECK(std::memcmp(outputs[i].raw_data(), reference[i].raw_data(),
                        outputs[i].TotalBytes()) == 0);
    }
  }
}

Tensor Scalar(int32_t value) {
  Tensor t(DT_INT32, TensorShape{});
  t.data<int32_t>()[0] = value;
  return t;
}

// Large enough for a team of 2 and 3 at kElementwiseCost, and not a multiple of 16.
constexpr int64_t kRows = 517, kCols = 193;

TEST_CASE("binary elementwise kernels are bit-identical at 1, 2 and 3 threads") {
  std::mt19937 rng(5);
  const Tensor a = RandomFloat({kRows, kCols}, rng);
  const Tensor b = RandomFloat({kRows, kCols}, rng, 0.5f, 2.f);
  const Tensor row = RandomFloat({kCols}, rng, 0.5f, 2.f);
  const Tensor column = RandomFloat({kRows, 1}, rng);
  const Tensor scalar = RandomFloat({}, rng);
  const Tensor cube = RandomFloat({9, 1, kCols}, rng);
  const Tensor cube_b = RandomFloat({1, 121, kCols}, rng);
  using Binary = Output (*)(const Scope&, const Output&, const Output&);
  for (Binary op : {static_cast<Binary>(ops::AddV2), static_cast<Binary>(ops::Mul),
                    static_cast<Binary>(ops::RealDiv), static_cast<Binary>(ops::SquaredDifference)}) {
    auto build = [op](const Scope& s, const std::vector<Output>& in) { return op(s, in[0], in[1]); };
    SECTION("same shape") { CheckSameAtEveryThreadCount({a, b}, build); }
    SECTION("row broadcast") { CheckSameAtEveryThreadCount({a, row}, build); }
    SECTION("column broadcast") { CheckSameAtEveryThreadCount({column, a}, build); }
    SECTION("scalar") { CheckSameAtEveryThreadCount({a, scalar}, build); }
    SECTION("scalar first") { CheckSameAtEveryThreadCount({scalar, b}, build); }
    SECTION("both broadcast") { CheckSameAtEveryThreadCount({cube, cube_b}, build); }
  }
  SECTION("int32") {
    CheckSameAtEveryThreadCount(
        {RandomInt32({kRows, kCols}, rng, -1000, 1000), RandomInt32({kCols}, rng, -9, 9)},
        [](const Scope& s, const std::vector<Output>& in) { return ops::Mul(s, in[0], in[1]); });
  }
}

TEST_CASE("unary, AddN and Cast kernels are bit-identical at 1, 2 and 3 threads") {
  std::mt19937 rng(6);
  const Tensor x = RandomFloat({kRows, kCols}, rng, -4.f, 4.f);
  using Unary = Output (*)(const Scope&, const Output&);
  for (Unary op : {static_cast<Unary>(ops::Tanh), static_cast<Unary>(ops::Sigmoid),
                   static_cast<Unary>(ops::Erf), static_cast<Unary>(ops::Exp)}) {
    CheckSameAtEveryThreadCount(
        {x}, [op](const Scope& s, const std::vector<Output>& in) { return op(s, in[0]); });
  }
  std::vector<Tensor> terms;
  for (int i = 0; i < 5; ++i) terms.push_back(RandomFloat({kRows, kCols}, rng));
  CheckSameAtEveryThreadCount(terms, [](const Scope& s, const std::vector<Output>& in) {
    return ops::AddN(s, in);
  });
  CheckSameAtEveryThreadCount({x}, [](const Scope& s, const std::vector<Output>& in) {
    return ops::Cast(s, in[0], DT_INT32);
  });
  CheckSameAtEveryThreadCount({x}, [](const Scope& s, const std::vector<Output>& in) {
    return ops::Cast(s, in[0], DT_DOUBLE);
  });
}

TEST_CASE("reductions are bit-identical at 1, 2 and 3 threads") {
  std::mt19937 rng(7);
  // Float sums add in 8 partial sums per row (SumRow): a split between rows keeps each row's
  // order, so the results match to the bit.
  const Tensor x = RandomFloat({kRows, kCols}, rng);
  const Tensor x3 = RandomFloat({31, kCols, 45}, rng);
  using Reduction = Output (*)(const Scope&, const Output&, const Output&, bool);
  for (Reduction op : {static_cast<Reduction>(ops::Sum), static_cast<Reduction>(ops::Mean),
                       static_cast<Reduction>(ops::Max), static_cast<Reduction>(ops::Min),
                       static_cast<Reduction>(ops::Prod)}) {
    for (int32_t axis : {0, 1}) {
      CAPTURE(axis);
      CheckSameAtEveryThreadCount({x, Scalar(axis)},
                                  [op](const Scope& s, const std::vector<Output>& in) {
                                    return op(s, in[0], in[1], false);
                                  });
      CheckSameAtEveryThreadCount({x3, Scalar(axis + 1)},
                                  [op](const Scope& s, const std::vector<Output>& in) {
                                    return op(s, in[0], in[1], true);
                                  });
    }
  }
  CheckSameAtEveryThreadCount(
      {RandomInt32({kRows, kCols}, rng, -1000, 1000), Scalar(1)},
      [](const Scope& s, const std::vector<Output>& in) {
        return ops::Sum(s, in[0], in[1], false);
      });
}

TEST_CASE("Transpose is bit-identical at 1, 2 and 3 threads") {
  std::mt19937 rng(8);
  const Tensor x = RandomFloat({7, 64, 13, 29}, rng);
  for (const std::vector<int32_t>& perm : std::vector<std::vector<int32_t>>{
           {0, 2, 1, 3}, {3, 2, 1, 0}, {1, 0, 3, 2}, {0, 1, 3, 2}}) {
    Tensor perm_tensor(DT_INT32, TensorShape{4});
    for (int k = 0; k < 4; ++k) perm_tensor.data<int32_t>()[k] = perm[k];
    CheckSameAtEveryThreadCount({x, perm_tensor},
                                [](const Scope& s, const std::vector<Output>& in) {
                                  return ops::Transpose(s, in[0], in[1]);
                                });
  }
}

}  // namespace
}  // namespace weir
