// gpu_ops_conformance_test.cc - The GPU backend's conformance suite: every op the GPU registers
// (DefaultKernelRegistry().Ops(kDeviceGpu), except _Send, _Recv and Const, which every case
// uses anyway, and _WeirElementwiseChain, which only the GPU session's fusion makes) runs as a one-op graph with its node on /device:GPU:0 and soft placement off (so
// the GPU kernel runs it, or the case fails), and as the same graph in a CPU-only session, on the
// same seeded inputs. The results must agree: elementwise float ops within 1e-5 relative (with
// an absolute floor near 0), float reductions, GEMMs and the cuDNN ops (convolution, pooling,
// batch norm) within 1e-4, everything else (integers, bools, data movement, Max/Min/ArgMax)
// exactly. A case compares one output of its node (output 0 unless it names another: the
// cross-entropy losses have a case for the loss and one for the backprop).
//
// Inputs are Placeholders of float, int32, int64, bool (a few double and uint8), fed with
// non-trivial values drawn from each op's domain; index arguments (axes, perm, shape, begin)
// are Const nodes, as the GPU kernels require. All cases live in one graph, each under its own
// name scope ("case012_AddV2/..."), so one GPU session (one device, one cuBLAS setup) and one
// CPU session serve them all, one Run per case. Both sessions use opt_level 0 (pruning only):
// the node runs as built, without folding, simplification or fusion.
//
// Without a GPU the comparison says "SKIPPED: no GPU"; two checks still run: every GPU op has a
// case here (a newly registered GPU op without one fails this test), and every case builds, is
// accepted by a GPU kernel row of the registry and computes on the CPU.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "builder/ops.h"
#include "graph/attr.h"
#include "kernels/registry.h"
#include "runtime/gpu/gpu_device.h"
#include "runtime/kernel_registry.h"
#include "runtime/session.h"
#include "runtime/tensor.h"

namespace weir {
namespace {

constexpr char kGpu[] = "/device:GPU:0";
constexpr char kNodeName[] = "op_under_test";

// ---- Inputs ----------------------------------------------------------------------------------

// How a placeholder's values are drawn.
enum class Draw {
  kUniform,    // floats uniform in [lo, hi), integers uniform in [lo, hi]
  kMagnitude,  // floats with |x| uniform in [lo, hi) and a random sign (divisors)
  kHalves,     // multiples of 0.5 in [lo, hi] (Round's ties, zeros for casts to bool)
  kNonZero,    // integers uniform in [lo, hi] except 0 (integer divisors)
};

struct In {
  DataType dtype;
  std::vector<int64_t> shape;
  double lo;
  double hi;
  Draw draw;
};

In Floats(std::vector<int64_t> shape, double lo = -3, double hi = 3, Draw draw = Draw::kUniform) {
  return {DT_FLOAT, std::move(shape), lo, hi, draw};
}
In Ints(DataType dtype, std::vector<int64_t> shape, double lo = -1000, double hi = 1000,
        Draw draw = Draw::kUniform) {
  return {dtype, std::move(shape), lo, hi, draw};
}
In Bools(std::vector<int64_t> shape) { return {DT_BOOL, std::move(shape), 0, 1, Draw::kUniform}; }
// Any dtype, for the data-movement ops: small values every type holds.
In Typed(DataType dtype, std::vector<int64_t> shape) {
  if (dtype == DT_FLOAT) return Floats(std::move(shape));
  return {dtype, std::move(shape), dtype == DT_UINT8 ? 0.0 : -100.0, 100, Draw::kUniform};
}

template <typename T>
void DrawValues(const In& in, std::mt19937& rng, T* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    if constexpr (std::is_floating_point<T>::value) {
      double v = 0;
      if (in.draw == Draw::kHalves) {
        std::uniform_int_distribution<int64_t> k(static_cast<int64_t>(std::ceil(in.lo * 2)),
                                                 static_cast<int64_t>(std::floor(in.hi * 2)));
        v = 0.5 * static_cast<double>(k(rng));
      } else {
        v = std::uniform_real_distribution<double>(in.lo, in.hi)(rng);
        if (in.draw == Draw::kMagnitude && (rng() & 1) != 0) v = -v;
      }
      out[i] = static_cast<T>(v);
    } else {
      std::uniform_int_distribution<int64_t> dist(static_cast<int64_t>(in.lo),
                                                  static_cast<int64_t>(in.hi));
      int64_t v = dist(rng);
      while (in.draw == Draw::kNonZero && v == 0) v = dist(rng);
      out[i] = static_cast<T>(v);
    }
  }
}

Tensor MakeInput(const In& in, std::mt19937& rng) {
  Tensor t(in.dtype, TensorShape(in.shape));
  const int64_t n = t.num_elements();
  switch (in.dtype) {
    case DT_FLOAT:
      DrawValues(in, rng, t.data<float>(), n);
      break;
    case DT_DOUBLE:
      DrawValues(in, rng, t.data<double>(), n);
      break;
    case DT_INT32:
      DrawValues(in, rng, t.data<int32_t>(), n);
      break;
    case DT_INT64:
      DrawValues(in, rng, t.data<int64_t>(), n);
      break;
    case DT_UINT8:
      DrawValues(in, rng, t.data<uint8_t>(), n);
      break;
    case DT_BOOL:
      for (int64_t i = 0; i < n; ++i) t.data<bool>()[i] = (rng() & 1) != 0;
      break;
    default:
      FAIL("no input generator for dtype " << DataTypeString(in.dtype));
  }
  return t;
}

// ---- Tolerances ------------------------------------------------------------------------------

// |gpu - cpu| <= rel * max(|cpu|, floor) for float results; rel 0 means bit-equal values.
// Integer and bool results are always compared exactly.
struct Tol {
  double rel;
  double floor;
};
constexpr Tol kExact{0, 0};
// Elementwise float ops: 1e-5 relative; below |floor| an absolute 1e-5 * floor.
constexpr Tol Elementwise(double floor = 1e-2) { return {1e-5, floor}; }
// Reductions and GEMMs: the GPU sums in another order.
constexpr Tol kAccumulating{1e-4, 1.0};

// ---- Cases -----------------------------------------------------------------------------------

using Attrs = std::vector<std::pair<std::string, AttrValue>>;
// Adds the node under test through `op_scope` (which names it kNodeName and, in the GPU graph,
// asks for the GPU), reading the placeholders `x`; constant inputs go through `root`.
using BuildFn =
    std::function<Output(const Scope& op_scope, const Scope& root, const std::vector<Output>& x)>;

struct Case {
  std::string op;     // the op under test: what the coverage check counts
  std::string label;  // what this case varies
  std::vector<In> inputs;
  BuildFn build;
  Tol tol;
  // Where the CPU has no kernel for what the GPU row takes (int Relu6, int Mean): the same
  // function from ops the CPU has, built in the CPU graph instead, its last node named kNodeName.
  BuildFn reference;
  // The output of the node that is compared (a loss op's backprop is output 1).
  int output = 0;
};

Output OpNode(const Scope& s, const std::string& op, const std::vector<Output>& inputs,
              const Attrs& attrs) {
  NodeBuilder b(s, op);
  for (const Output& in : inputs) b.Input(in);
  for (const auto& [name, value] : attrs) b.Attr(name, value);
  return b.Finalize();
}

// A Const of `dtype` (int32 or int64) holding `values`: a vector, or a scalar when `scalar`.
Output IndexConst(const Scope& root, const std::vector<int64_t>& values, DataType dtype = DT_INT32,
                  bool scalar = false) {
  Tensor t(dtype, scalar ? TensorShape{} : TensorShape({static_cast<int64_t>(values.size())}));
  for (size_t i = 0; i < values.size(); ++i) {
    if (dtype == DT_INT64) {
      t.data<int64_t>()[i] = values[i];
    } else {
      t.data<int32_t>()[i] = static_cast<int32_t>(values[i]);
    }
  }
  TensorProto proto;
  t.ToProto(&proto);
  return ops::Const(root, proto);
}

// A scalar Const of `dtype` holding `value`.
Output ScalarOf(const Scope& root, DataType dtype, double value) {
  Tensor t(dtype, TensorShape{});
  switch (dtype) {
    case DT_FLOAT:
      t.data<float>()[0] = static_cast<float>(value);
      break;
    case DT_INT32:
      t.data<int32_t>()[0] = static_cast<int32_t>(value);
      break;
    case DT_INT64:
      t.data<int64_t>()[0] = static_cast<int64_t>(value);
      break;
    case DT_BOOL:
      t.data<bool>()[0] = value != 0;
      break;
    default:
      FAIL("no scalar Const for dtype " << DataTypeString(dtype));
  }
  TensorProto proto;
  t.ToProto(&proto);
  return ops::Const(root, proto);
}

std::string ShapeString(const std::vector<int64_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ","), "]");
}

std::string InputsLabel(const std::vector<In>& inputs) {
  std::vector<std::string> parts;
  for (const In& in : inputs) {
    parts.push_back(absl::StrCat(DataTypeString(in.dtype), ShapeString(in.shape)));
  }
  return absl::StrJoin(parts, " ");
}

class Table {
 public:
  void Add(std::string op, std::string label, std::vector<In> inputs, BuildFn build, Tol tol,
           BuildFn reference = nullptr, int output = 0) {
    label = absl::StrCat(op, " ", label, label.empty() ? "" : " ", InputsLabel(inputs));
    if (output != 0) absl::StrAppend(&label, " output ", output);
    cases_.push_back({std::move(op), std::move(label), std::move(inputs), std::move(build), tol,
                      std::move(reference), output});
  }
  // op(x[0]) with attr T.
  void Unary(const std::string& op, In x, Tol tol, const std::string& label = "") {
    Add(op, label, {std::move(x)}, PlainBuild(op), tol);
  }
  // op(x[0], x[1]) with attr T.
  void Binary(const std::string& op, In x, In y, Tol tol, const std::string& label = "") {
    Add(op, label, {std::move(x), std::move(y)}, PlainBuild(op), tol);
  }
  const std::vector<Case>& cases() const { return cases_; }

 private:
  // Every input of the node is a placeholder and T is input 0's dtype.
  static BuildFn PlainBuild(const std::string& op) {
    return [op](const Scope& s, const Scope&, const std::vector<Output>& x) {
      return OpNode(s, op, x, {{"T", MakeAttr(x[0].dtype())}});
    };
  }
  std::vector<Case> cases_;
};

void AddUnaryCases(Table& t) {
  struct Row {
    const char* op;
    double lo, hi;
    Draw draw;
    double floor;  // the elementwise floor
  };
  const Row rows[] = {
      {"Neg", -10, 10, Draw::kUniform, 1e-2},     {"Abs", -10, 10, Draw::kUniform, 1e-2},
      {"Exp", -10, 10, Draw::kUniform, 1e-2},     {"Log", 1e-3, 100, Draw::kUniform, 0.1},
      {"Log1p", -0.99, 10, Draw::kUniform, 0.1},  {"Sqrt", 0, 100, Draw::kUniform, 1e-2},
      {"Rsqrt", 1e-2, 100, Draw::kUniform, 1e-2}, {"Square", -10, 10, Draw::kUniform, 1e-2},
      {"Tanh", -5, 5, Draw::kUniform, 1e-2},      {"Sigmoid", -12, 12, Draw::kUniform, 1e-2},
      {"Relu", -3, 3, Draw::kUniform, 1e-2},      {"Relu6", -3, 9, Draw::kUniform, 1e-2},
      {"Elu", -5, 3, Draw::kUniform, 0.1},        {"Softplus", -15, 15, Draw::kUniform, 0.1},
      {"Sign", -10, 10, Draw::kUniform, 1e-2},    {"Floor", -10, 10, Draw::kUniform, 1e-2},
      {"Ceil", -10, 10, Draw::kUniform, 1e-2},    {"Round", -10, 10, Draw::kUniform, 1e-2},
      {"Erf", -3, 3, Draw::kUniform, 1e-2},       {"Reciprocal", 0.05, 20, Draw::kMagnitude, 1e-2},
  };
  for (const Row& r : rows) {
    t.Unary(r.op, Floats({4, 257}, r.lo, r.hi, r.draw), Elementwise(r.floor));
  }
  // Ties round to even (TensorFlow's Round); Sign and Abs of zeros and halves.
  t.Unary("Round", Floats({3, 41}, -6, 6, Draw::kHalves), kExact, "ties");
  t.Unary("Sign", Floats({3, 41}, -2, 2, Draw::kHalves), kExact, "zeros");
  t.Unary("Relu", Floats({1000}, -3, 3), Elementwise(), "flat");

  // The integer rows (elementwise.h marks them) where the op takes integers.
  for (DataType dt : {DT_INT32, DT_INT64}) {
    const double big = dt == DT_INT64 ? 3e9 : 1e6;
    t.Unary("Neg", Ints(dt, {5, 67}, -big, big), kExact);
    t.Unary("Abs", Ints(dt, {5, 67}, -big, big), kExact);
    t.Unary("Square", Ints(dt, {5, 67}, dt == DT_INT64 ? -2e9 : -4e4, dt == DT_INT64 ? 2e9 : 4e4),
            kExact);
    t.Unary("Relu", Ints(dt, {5, 67}, -big, big), kExact);
    // The CPU's Relu6 takes floats only: min(max(x, 0), 6) there.
    t.Add(
        "Relu6", "", {Ints(dt, {5, 67}, -10, 10)},
        [](const Scope& s, const Scope&, const std::vector<Output>& x) {
          return OpNode(s, "Relu6", x, {{"T", MakeAttr(x[0].dtype())}});
        },
        kExact,
        [dt](const Scope& s, const Scope& root, const std::vector<Output>& x) {
          Output relu = ops::Maximum(root, x[0], ScalarOf(root, dt, 0));
          return ops::Minimum(s, relu, ScalarOf(root, dt, 6));
        });
    t.Unary("Sign", Ints(dt, {5, 67}, -3, 3), kExact);
    t.Unary("Round", Ints(dt, {5, 67}, -big, big), kExact);
  }
}

void AddBinaryCases(Table& t) {
  struct Row {
    const char* op;
    In x, y;          // float operands, broadcasting [4,1,33] against [3,33]
    bool ints;        // the GPU registers int32 and int64 too
    double ilo, ihi;  // integer x range
    In iy;            // integer y (dtype replaced per case)
  };
  const std::vector<int64_t> xs = {4, 1, 33}, ys = {3, 33};
  const In fx = Floats(xs, -10, 10), fy = Floats(ys, -10, 10);
  const In divisor = Floats(ys, 0.1, 10, Draw::kMagnitude);
  const In iy = Ints(DT_INT32, ys);
  const In inz = Ints(DT_INT32, ys, -30, 30, Draw::kNonZero);
  const std::vector<Row> rows = {
      {"Add", fx, fy, true, -1e6, 1e6, iy},
      {"AddV2", fx, fy, true, -1e6, 1e6, iy},
      {"Sub", fx, fy, true, -1e6, 1e6, iy},
      {"Mul", fx, fy, true, -1000, 1000, iy},
      {"RealDiv", fx, divisor, false, 0, 0, iy},
      {"Div", fx, divisor, true, -1000, 1000, inz},
      {"Maximum", fx, fy, true, -1e6, 1e6, iy},
      {"Minimum", fx, fy, true, -1e6, 1e6, iy},
      {"Pow", Floats(xs, 0.1, 4), Floats(ys, -3, 3), true, -6, 6, Ints(DT_INT32, ys, 0, 6)},
      {"SquaredDifference", fx, fy, true, -1000, 1000, iy},
      {"FloorDiv", Floats(xs, -20, 20), Floats(ys, 0.5, 6, Draw::kMagnitude), true, -1000, 1000,
       inz},
      {"FloorMod", Floats(xs, -20, 20), Floats(ys, 0.5, 6, Draw::kMagnitude), true, -1000, 1000,
       inz},
  };
  for (const Row& r : rows) {
    t.Binary(r.op, r.x, r.y, Elementwise(), "broadcast");
    if (!r.ints) continue;
    for (DataType dt : {DT_INT32, DT_INT64}) {
      In x = Ints(dt, xs, r.ilo, r.ihi);
      In y = r.iy;
      y.dtype = dt;
      // int64 operands past the int32 range where the op keeps them in range.
      if (dt == DT_INT64 && r.ihi >= 1e6) {
        x.lo = -3e12;
        x.hi = 3e12;
      }
      t.Binary(r.op, x, y, kExact, "broadcast");
    }
  }
  // Other shapes: same shape (the flat path), a scalar on either side, rank 4 both ways.
  t.Binary("Add", Floats({5, 67}), Floats({5, 67}), Elementwise(), "same shape");
  t.Binary("Add", Floats({}), Floats({6, 11}), Elementwise(), "scalar lhs");
  t.Binary("Mul", Floats({6, 11}), Floats({}), Elementwise(), "scalar rhs");
  t.Binary("Sub", Floats({2, 1, 5, 1}), Floats({1, 3, 1, 7}), Elementwise(), "rank 4");
  t.Binary("Maximum", Floats({7, 1}), Floats({1, 9}), Elementwise(), "outer");
  t.Binary("RealDiv", Floats({2, 3, 4, 5, 6}), Floats({5, 1}, 0.1, 10, Draw::kMagnitude),
           Elementwise(), "rank 5");
  t.Binary("FloorMod", Ints(DT_INT32, {64}, -50, 50), Ints(DT_INT32, {64}, -7, 7, Draw::kNonZero),
           kExact, "signs");
  t.Binary("FloorDiv", Ints(DT_INT64, {64}, -50, 50), Ints(DT_INT64, {64}, -7, 7, Draw::kNonZero),
           kExact, "signs");
}

void AddNnCases(Table& t) {
  // AddN: N same-shape inputs.
  auto add_n = [](const Scope& s, const Scope&, const std::vector<Output>& x) {
    return OpNode(s, "AddN", x,
                  {{"T", MakeAttr(x[0].dtype())}, {"N", MakeAttr(static_cast<int64_t>(x.size()))}});
  };
  // Three terms may be added in another order: near 0 the error is that of the terms.
  t.Add("AddN", "N=3", {Floats({5, 33}), Floats({5, 33}), Floats({5, 33})}, add_n,
        Elementwise(1.0));
  t.Add("AddN", "N=1", {Floats({5, 33})}, add_n, kExact);
  t.Add("AddN", "N=4",
        {Ints(DT_INT32, {9, 7}), Ints(DT_INT32, {9, 7}), Ints(DT_INT32, {9, 7}),
         Ints(DT_INT32, {9, 7})},
        add_n, kExact);
  t.Add("AddN", "N=2", {Ints(DT_INT64, {130}, -1e12, 1e12), Ints(DT_INT64, {130}, -1e12, 1e12)},
        add_n, kExact);

  // BiasAdd: NHWC (channels last), NCHW (channels in dimension 1), rank 2.
  auto bias_add = [](const std::string& format) -> BuildFn {
    return [format](const Scope& s, const Scope&, const std::vector<Output>& x) {
      return OpNode(s, "BiasAdd", x,
                    {{"T", MakeAttr(x[0].dtype())}, {"data_format", MakeAttr(format)}});
    };
  };
  t.Add("BiasAdd", "NHWC", {Floats({2, 3, 5, 16}), Floats({16})}, bias_add("NHWC"), Elementwise());
  t.Add("BiasAdd", "NCHW", {Floats({2, 16, 3, 5}), Floats({16})}, bias_add("NCHW"), Elementwise());
  t.Add("BiasAdd", "rank 2", {Floats({7, 9}), Floats({9})}, bias_add("NHWC"), Elementwise());
  t.Add("BiasAdd", "", {Ints(DT_INT32, {7, 9}), Ints(DT_INT32, {9})}, bias_add("NHWC"), kExact);
  t.Add("BiasAdd", "", {Ints(DT_INT64, {3, 4, 6}), Ints(DT_INT64, {6})}, bias_add("NHWC"), kExact);

  // Softmax and LogSoftmax over the last axis.
  for (const char* op : {"Softmax", "LogSoftmax"}) {
    const Tol tol = Elementwise(std::string(op) == "LogSoftmax" ? 0.1 : 1e-2);
    t.Unary(op, Floats({8, 100}, -10, 10), tol);
    t.Unary(op, Floats({2, 3, 17}, -4, 4), tol);
    t.Unary(op, Floats({5, 1}), tol, "one class");
    t.Unary(op, Floats({3, 2000}, -30, 30), tol, "wide");
  }
}

void AddNnGradCases(Table& t) {
  // Activation gradients: (gradients, features) for ReluGrad and Relu6Grad, which pick (exact),
  // and (y, dy) with y the forward op's output for SigmoidGrad and TanhGrad.
  t.Binary("ReluGrad", Floats({4, 257}), Floats({4, 257}), kExact);
  // Features on multiples of 0.5: exact zeros, where the gradient is 0 (features > 0 only).
  t.Binary("ReluGrad", Floats({3, 41}), Floats({3, 41}, -2, 2, Draw::kHalves), kExact, "zeros");
  // The training step's shape: the hidden layer of the seed model at batch 128.
  t.Binary("ReluGrad", Floats({128, 64}), Floats({128, 64}), kExact, "seed model");
  for (DataType dt : {DT_INT32, DT_INT64}) {
    t.Binary("ReluGrad", Ints(dt, {5, 67}), Ints(dt, {5, 67}, -3, 3), kExact);
  }
  // Features on multiples of 0.5 in [-2, 8]: 0 and 6, the edges where the gradient is 0.
  t.Binary("Relu6Grad", Floats({4, 257}), Floats({4, 257}, -2, 8, Draw::kHalves), kExact);
  t.Binary("SigmoidGrad", Floats({4, 257}, 1e-3, 0.999), Floats({4, 257}), Elementwise());
  t.Binary("TanhGrad", Floats({4, 257}, -0.999, 0.999), Floats({4, 257}), Elementwise());

  // BiasAddGrad: a sum over every dimension but the channel one. Terms lean positive, as the
  // reduction cases' do, so no sum comes near 0.
  auto bias_add_grad = [](const std::string& format) -> BuildFn {
    return [format](const Scope& s, const Scope&, const std::vector<Output>& x) {
      return OpNode(s, "BiasAddGrad", x,
                    {{"T", MakeAttr(x[0].dtype())}, {"data_format", MakeAttr(format)}});
    };
  };
  t.Add("BiasAddGrad", "NHWC", {Floats({2, 3, 5, 16}, -1, 3)}, bias_add_grad("NHWC"),
        kAccumulating);
  t.Add("BiasAddGrad", "NCHW", {Floats({2, 16, 3, 5}, -1, 3)}, bias_add_grad("NCHW"),
        kAccumulating);
  t.Add("BiasAddGrad", "NCHW batch 1", {Floats({1, 8, 7, 9}, -1, 3)}, bias_add_grad("NCHW"),
        kAccumulating);
  t.Add("BiasAddGrad", "seed model", {Floats({128, 64}, -1, 3)}, bias_add_grad("NHWC"),
        kAccumulating);
  t.Add("BiasAddGrad", "long", {Floats({20000, 3}, -1, 3)}, bias_add_grad("NHWC"),
        kAccumulating);
  t.Add("BiasAddGrad", "empty batch", {Floats({0, 6})}, bias_add_grad("NHWC"), kExact);
  t.Add("BiasAddGrad", "", {Ints(DT_INT32, {7, 9})}, bias_add_grad("NHWC"), kExact);
  t.Add("BiasAddGrad", "NCHW", {Ints(DT_INT64, {3, 4, 6}, -1e12, 1e12)}, bias_add_grad("NCHW"),
        kExact);

  // Softmax cross-entropy: one case for the loss (output 0), one for the backprop (output 1).
  // Sparse labels are in range (the GPU kernel gives NaN where the CPU one fails).
  auto xent = [](const std::string& op) -> BuildFn {
    return [op](const Scope& s, const Scope&, const std::vector<Output>& x) {
      Attrs attrs = {{"T", MakeAttr(DT_FLOAT)}};
      if (op == "SparseSoftmaxCrossEntropyWithLogits") {
        attrs.push_back({"Tlabels", MakeAttr(x[1].dtype())});
      }
      return OpNode(s, op, x, attrs);
    };
  };
  struct XentRow {
    std::string label;
    std::vector<In> inputs;
  };
  const std::string sparse = "SparseSoftmaxCrossEntropyWithLogits";
  const std::vector<XentRow> sparse_rows = {
      {"seed model", {Floats({128, 10}, -5, 5), Ints(DT_INT32, {128}, 0, 9)}},
      {"int64 labels", {Floats({33, 100}, -10, 10), Ints(DT_INT64, {33}, 0, 99)}},
      {"one class", {Floats({5, 1}), Ints(DT_INT32, {5}, 0, 0)}},
      {"wide", {Floats({3, 2000}, -30, 30), Ints(DT_INT64, {3}, 0, 1999)}},
  };
  const std::string dense = "SoftmaxCrossEntropyWithLogits";
  const std::vector<XentRow> dense_rows = {
      {"", {Floats({33, 10}, -5, 5), Floats({33, 10}, 0, 1)}},
      {"wide", {Floats({3, 2000}, -30, 30), Floats({3, 2000}, 0, 1)}},
      {"no classes", {Floats({4, 0}), Floats({4, 0})}},
  };
  for (const auto& [op, rows] : {std::make_pair(sparse, sparse_rows),
                                 std::make_pair(dense, dense_rows)}) {
    for (const XentRow& row : rows) {
      for (int output : {0, 1}) {
        t.Add(op, row.label, row.inputs, xent(op), kAccumulating, nullptr, output);
      }
    }
  }
}

void AddCastCases(Table& t) {
  auto cast = [](DataType dst) -> BuildFn {
    return [dst](const Scope& s, const Scope&, const std::vector<Output>& x) {
      return OpNode(s, "Cast", x, {{"SrcT", MakeAttr(x[0].dtype())}, {"DstT", MakeAttr(dst)}});
    };
  };
  struct Row {
    In x;
    DataType dst;
  };
  const std::vector<Row> rows = {
      {Floats({6, 50}, -1000, 1000), DT_INT32},  // truncation toward zero
      {Floats({6, 50}, -1000, 1000), DT_INT64},
      {Floats({6, 50}, -1, 1, Draw::kHalves), DT_BOOL},  // zeros among them
      {Floats({6, 50}), DT_FLOAT},                       // the same type
      {Ints(DT_INT32, {6, 50}, -1e7, 1e7), DT_FLOAT},
      {Ints(DT_INT32, {6, 50}, -2e9, 2e9), DT_INT64},
      {Ints(DT_INT32, {6, 50}, -2, 2), DT_BOOL},
      {Ints(DT_INT64, {6, 50}, -1e12, 1e12), DT_FLOAT},
      {Ints(DT_INT64, {6, 50}, -2e9, 2e9), DT_INT32},
      {Ints(DT_INT64, {6, 50}, -2, 2), DT_BOOL},
      {Bools({6, 50}), DT_FLOAT},
      {Bools({6, 50}), DT_INT32},
      {Bools({6, 50}), DT_INT64},
  };
  for (const Row& r : rows) {
    t.Add("Cast", absl::StrCat("to ", DataTypeString(r.dst)), {r.x}, cast(r.dst), kExact);
  }
}

void AddMatMulCases(Table& t) {
  auto matmul = [](bool ta, bool tb) -> BuildFn {
    return [ta, tb](const Scope& s, const Scope&, const std::vector<Output>& x) {
      return OpNode(s, "MatMul", x,
                    {{"T", MakeAttr(DT_FLOAT)},
                     {"transpose_a", MakeAttr(ta)},
                     {"transpose_b", MakeAttr(tb)}});
    };
  };
  t.Add("MatMul", "", {Floats({33, 65}, -1, 1), Floats({65, 17}, -1, 1)}, matmul(false, false),
        kAccumulating);
  t.Add("MatMul", "transpose_a", {Floats({65, 33}, -1, 1), Floats({65, 17}, -1, 1)},
        matmul(true, false), kAccumulating);
  t.Add("MatMul", "transpose_b", {Floats({33, 65}, -1, 1), Floats({17, 65}, -1, 1)},
        matmul(false, true), kAccumulating);
  t.Add("MatMul", "both transposed", {Floats({65, 33}, -1, 1), Floats({17, 65}, -1, 1)},
        matmul(true, true), kAccumulating);
  t.Add("MatMul", "large", {Floats({128, 512}, -1, 1), Floats({512, 96}, -1, 1)},
        matmul(false, false), kAccumulating);
  t.Add("MatMul", "vector", {Floats({1, 300}, -1, 1), Floats({300, 50}, -1, 1)},
        matmul(false, false), kAccumulating);
  t.Add("MatMul", "k=0", {Floats({5, 0}), Floats({0, 7})}, matmul(false, false), kExact);

  auto fused = [](std::vector<std::string> fused_ops, bool tb) -> BuildFn {
    return [fused_ops, tb](const Scope& s, const Scope&, const std::vector<Output>& x) {
      return OpNode(s, "_FusedMatMul", x,
                    {{"T", MakeAttr(DT_FLOAT)},
                     {"num_args", MakeAttr(int64_t{1})},
                     {"fused_ops", MakeAttr(fused_ops)},
                     {"transpose_b", MakeAttr(tb)}});
    };
  };
  for (const char* activation : {"", "Relu", "Relu6", "Tanh", "Sigmoid", "Elu"}) {
    std::vector<std::string> fused_ops = {"BiasAdd"};
    if (*activation != '\0') fused_ops.push_back(activation);
    t.Add("_FusedMatMul", absl::StrJoin(fused_ops, "+"),
          {Floats({19, 40}, -1, 1), Floats({40, 23}, -1, 1), Floats({23}, -1, 1)},
          fused(fused_ops, false), kAccumulating);
  }
  t.Add("_FusedMatMul", "BiasAdd+Relu transpose_b",
        {Floats({19, 40}, -1, 1), Floats({23, 40}, -1, 1), Floats({23}, -1, 1)},
        fused({"BiasAdd", "Relu"}, true), kAccumulating);

  auto batch = [](const std::string& op, bool adj_x, bool adj_y) -> BuildFn {
    return [op, adj_x, adj_y](const Scope& s, const Scope&, const std::vector<Output>& x) {
      return OpNode(
          s, op, x,
          {{"T", MakeAttr(DT_FLOAT)}, {"adj_x", MakeAttr(adj_x)}, {"adj_y", MakeAttr(adj_y)}});
    };
  };
  for (const char* op : {"BatchMatMul", "BatchMatMulV2"}) {
    t.Add(op, "", {Floats({3, 9, 13}, -1, 1), Floats({3, 13, 6}, -1, 1)}, batch(op, false, false),
          kAccumulating);
    t.Add(op, "adj_x", {Floats({3, 13, 9}, -1, 1), Floats({3, 13, 6}, -1, 1)},
          batch(op, true, false), kAccumulating);
    t.Add(op, "adj_y", {Floats({3, 9, 13}, -1, 1), Floats({3, 6, 13}, -1, 1)},
          batch(op, false, true), kAccumulating);
    t.Add(op, "rank 4", {Floats({2, 3, 5, 7}, -1, 1), Floats({2, 3, 7, 4}, -1, 1)},
          batch(op, false, false), kAccumulating);
  }
  // V2 broadcasts a whole operand (a rank-2 one, or a batch of one).
  t.Add("BatchMatMulV2", "rank-2 rhs", {Floats({2, 3, 9, 13}, -1, 1), Floats({13, 6}, -1, 1)},
        batch("BatchMatMulV2", false, false), kAccumulating);
  t.Add("BatchMatMulV2", "batch-1 lhs", {Floats({1, 9, 13}, -1, 1), Floats({4, 13, 6}, -1, 1)},
        batch("BatchMatMulV2", false, false), kAccumulating);
  t.Add("BatchMatMulV2", "adj both", {Floats({4, 13, 9}, -1, 1), Floats({4, 6, 13}, -1, 1)},
        batch("BatchMatMulV2", true, true), kAccumulating);
}

void AddArrayCases(Table& t) {
  const DataType kArrayTypes[] = {DT_FLOAT, DT_INT32, DT_INT64, DT_BOOL};
  auto typed = [](DataType dt, std::vector<int64_t> shape) {
    return dt == DT_BOOL ? Bools(std::move(shape)) : Typed(dt, std::move(shape));
  };

  // Transpose with a Const perm (int32 or int64).
  auto transpose = [](std::vector<int64_t> perm, DataType tperm = DT_INT32) -> BuildFn {
    return [perm, tperm](const Scope& s, const Scope& root, const std::vector<Output>& x) {
      return OpNode(s, "Transpose", {x[0], IndexConst(root, perm, tperm)},
                    {{"T", MakeAttr(x[0].dtype())}, {"Tperm", MakeAttr(tperm)}});
    };
  };
  t.Add("Transpose", "perm [3,1,0,2]", {Floats({2, 3, 4, 5})}, transpose({3, 1, 0, 2}), kExact);
  t.Add("Transpose", "identity perm", {Floats({6, 7})}, transpose({0, 1}), kExact);
  t.Add("Transpose", "perm [1,0]", {Ints(DT_INT32, {37, 19})}, transpose({1, 0}), kExact);
  t.Add("Transpose", "perm [2,0,1] int64", {Ints(DT_INT64, {3, 4, 5}, -1e12, 1e12)},
        transpose({2, 0, 1}, DT_INT64), kExact);
  t.Add("Transpose", "perm [1,2,0]", {Bools({3, 4, 5})}, transpose({1, 2, 0}), kExact);
  t.Add("Transpose", "rank 6 reversed", {Floats({2, 3, 2, 3, 2, 2})}, transpose({5, 4, 3, 2, 1, 0}),
        kExact);

  // ConcatV2 along a Const axis (the last input).
  auto concat = [](int64_t axis, DataType tidx = DT_INT32) -> BuildFn {
    return [axis, tidx](const Scope& s, const Scope& root, const std::vector<Output>& x) {
      std::vector<Output> inputs = x;
      inputs.push_back(IndexConst(root, {axis}, tidx, /*scalar=*/true));
      return OpNode(s, "ConcatV2", inputs,
                    {{"T", MakeAttr(x[0].dtype())},
                     {"N", MakeAttr(static_cast<int64_t>(x.size()))},
                     {"Tidx", MakeAttr(tidx)}});
    };
  };
  t.Add("ConcatV2", "axis 1", {Floats({2, 3, 4}), Floats({2, 5, 4}), Floats({2, 1, 4})}, concat(1),
        kExact);
  t.Add("ConcatV2", "axis -1", {Floats({3, 2}), Floats({3, 5})}, concat(-1), kExact);
  t.Add("ConcatV2", "axis 0", {Ints(DT_INT32, {2, 3}), Ints(DT_INT32, {4, 3})}, concat(0), kExact);
  t.Add("ConcatV2", "axis 1 int64", {Ints(DT_INT64, {4, 2}), Ints(DT_INT64, {4, 3})},
        concat(1, DT_INT64), kExact);
  t.Add("ConcatV2", "axis 1", {Bools({2, 3}), Bools({2, 1}), Bools({2, 4})}, concat(1), kExact);

  // Split (Const axis first), SplitV (Const size_splits and axis), Unpack and Pack; every output
  // of the multi-output ops is compared.
  auto split = [](int64_t axis, int64_t num) -> BuildFn {
    return [axis, num](const Scope& s, const Scope& root, const std::vector<Output>& x) {
      return OpNode(s, "Split", {IndexConst(root, {axis}, DT_INT32, /*scalar=*/true), x[0]},
                    {{"T", MakeAttr(x[0].dtype())}, {"num_split", MakeAttr(num)}});
    };
  };
  for (int output : {0, 2}) {
    t.Add("Split", "axis 1 in 3", {Floats({4, 9, 5})}, split(1, 3), kExact, nullptr, output);
  }
  t.Add("Split", "axis -1 in 2", {Ints(DT_INT64, {3, 8}, -1e12, 1e12)}, split(-1, 2), kExact,
        nullptr, 1);
  t.Add("Split", "into one", {Bools({5, 4})}, split(0, 1), kExact);
  auto split_v = [](std::vector<int64_t> sizes, int64_t axis,
                    DataType tlen = DT_INT64) -> BuildFn {
    return [sizes, axis, tlen](const Scope& s, const Scope& root, const std::vector<Output>& x) {
      return OpNode(s, "SplitV",
                    {x[0], IndexConst(root, sizes, tlen),
                     IndexConst(root, {axis}, DT_INT32, /*scalar=*/true)},
                    {{"T", MakeAttr(x[0].dtype())},
                     {"Tlen", MakeAttr(tlen)},
                     {"num_split", MakeAttr(static_cast<int64_t>(sizes.size()))}});
    };
  };
  for (int output : {0, 1, 2}) {
    t.Add("SplitV", "sizes [2,-1,3] axis 0", {Floats({9, 4})}, split_v({2, -1, 3}, 0), kExact,
          nullptr, output);
  }
  t.Add("SplitV", "sizes [1,4] axis -1", {Ints(DT_INT32, {3, 5})}, split_v({1, 4}, -1), kExact,
        nullptr, 1);
  for (int output : {0, 1}) {  // an empty piece, int32 sizes
    t.Add("SplitV", "sizes [0,-1] int32", {Floats({4, 6})}, split_v({0, -1}, 1, DT_INT32), kExact,
          nullptr, output);
  }
  auto unpack = [](int64_t axis, int64_t num) -> BuildFn {
    return [axis, num](const Scope& s, const Scope&, const std::vector<Output>& x) {
      return OpNode(s, "Unpack", x,
                    {{"T", MakeAttr(x[0].dtype())}, {"num", MakeAttr(num)}, {"axis", MakeAttr(axis)}});
    };
  };
  for (int output : {0, 3}) {
    t.Add("Unpack", "axis 1", {Floats({3, 4, 5})}, unpack(1, 4), kExact, nullptr, output);
  }
  t.Add("Unpack", "axis -1", {Ints(DT_INT32, {6, 2})}, unpack(-1, 2), kExact, nullptr, 1);
  t.Add("Unpack", "axis 0", {Bools({3, 7})}, unpack(0, 3), kExact, nullptr, 2);
  auto pack = [](int64_t axis) -> BuildFn {
    return [axis](const Scope& s, const Scope&, const std::vector<Output>& x) {
      return OpNode(s, "Pack", x,
                    {{"T", MakeAttr(x[0].dtype())},
                     {"N", MakeAttr(static_cast<int64_t>(x.size()))},
                     {"axis", MakeAttr(axis)}});
    };
  };
  t.Add("Pack", "axis 0", {Floats({4, 5}), Floats({4, 5}), Floats({4, 5})}, pack(0), kExact);
  t.Add("Pack", "axis 1", {Floats({4, 5}), Floats({4, 5})}, pack(1), kExact);
  t.Add("Pack", "axis -1", {Ints(DT_INT64, {3, 2}), Ints(DT_INT64, {3, 2})}, pack(-1), kExact);
  t.Add("Pack", "scalars", {Ints(DT_INT32, {}), Ints(DT_INT32, {}), Ints(DT_INT32, {})}, pack(0),
        kExact);

  // Pad (zeros) and PadV2 (a Const value) with Const paddings [rank, 2].
  auto pad = [](std::vector<int64_t> paddings, std::optional<double> value,
                DataType index = DT_INT32) -> BuildFn {
    return [paddings, value, index](const Scope& s, const Scope& root,
                                    const std::vector<Output>& x) {
      Tensor p(index, TensorShape({static_cast<int64_t>(paddings.size() / 2), 2}));
      for (size_t i = 0; i < paddings.size(); ++i) {
        if (index == DT_INT64) {
          p.data<int64_t>()[i] = paddings[i];
        } else {
          p.data<int32_t>()[i] = static_cast<int32_t>(paddings[i]);
        }
      }
      TensorProto proto;
      p.ToProto(&proto);
      std::vector<Output> inputs = {x[0], ops::Const(root, proto)};
      if (value.has_value()) inputs.push_back(ScalarOf(root, x[0].dtype(), *value));
      return OpNode(s, value.has_value() ? "PadV2" : "Pad", inputs,
                    {{"T", MakeAttr(x[0].dtype())}, {"Tpaddings", MakeAttr(index)}});
    };
  };
  t.Add("Pad", "[[1,2],[0,3],[2,0]]", {Floats({3, 4, 5})}, pad({1, 2, 0, 3, 2, 0}, std::nullopt),
        kExact);
  t.Add("Pad", "int64 paddings", {Ints(DT_INT32, {5, 6})}, pad({2, 2, 1, 1}, std::nullopt, DT_INT64),
        kExact);
  t.Add("Pad", "nothing", {Floats({4, 3})}, pad({0, 0, 0, 0}, std::nullopt), kExact);
  t.Add("PadV2", "value -1.5", {Floats({2, 3, 4, 5})}, pad({0, 0, 1, 1, 2, 1, 0, 0}, -1.5),
        kExact);
  t.Add("PadV2", "int64 value 7", {Ints(DT_INT64, {6})}, pad({3, 4}, 7.0), kExact);
  t.Add("PadV2", "bool true", {Bools({2, 2})}, pad({1, 0, 0, 1}, 1.0), kExact);

  // Slice with Const begin and size (-1: the rest).
  auto slice = [](std::vector<int64_t> begin, std::vector<int64_t> size,
                  DataType index = DT_INT32) -> BuildFn {
    return [begin, size, index](const Scope& s, const Scope& root, const std::vector<Output>& x) {
      return OpNode(s, "Slice",
                    {x[0], IndexConst(root, begin, index), IndexConst(root, size, index)},
                    {{"T", MakeAttr(x[0].dtype())}, {"Index", MakeAttr(index)}});
    };
  };
  t.Add("Slice", "begin [1,2,3] size [3,-1,4]", {Floats({5, 7, 9})}, slice({1, 2, 3}, {3, -1, 4}),
        kExact);
  t.Add("Slice", "rows", {Ints(DT_INT32, {6, 8})}, slice({2, 0}, {3, 8}), kExact);
  t.Add("Slice", "int64 index", {Ints(DT_INT64, {10})}, slice({4}, {5}, DT_INT64), kExact);
  t.Add("Slice", "", {Bools({4, 5})}, slice({1, 1}, {2, 3}), kExact);
  t.Add("Slice", "whole", {Floats({3, 4})}, slice({0, 0}, {-1, -1}), kExact);

  // StridedSlice with Const begin, end, strides and masks.
  struct Masks {
    int64_t begin = 0, end = 0, ellipsis = 0, new_axis = 0, shrink = 0;
  };
  auto strided = [](std::vector<int64_t> begin, std::vector<int64_t> end,
                    std::vector<int64_t> strides, Masks m, DataType index = DT_INT32) -> BuildFn {
    return [=](const Scope& s, const Scope& root, const std::vector<Output>& x) {
      return OpNode(s, "StridedSlice",
                    {x[0], IndexConst(root, begin, index), IndexConst(root, end, index),
                     IndexConst(root, strides, index)},
                    {{"T", MakeAttr(x[0].dtype())},
                     {"Index", MakeAttr(index)},
                     {"begin_mask", MakeAttr(m.begin)},
                     {"end_mask", MakeAttr(m.end)},
                     {"ellipsis_mask", MakeAttr(m.ellipsis)},
                     {"new_axis_mask", MakeAttr(m.new_axis)},
                     {"shrink_axis_mask", MakeAttr(m.shrink)}});
    };
  };
  t.Add("StridedSlice", "x[1:5:2, :, 9:0:-3]", {Floats({6, 8, 10})},
        strided({1, 0, 9}, {5, 8, 0}, {2, 1, -3}, Masks{0, 2, 0, 0, 0}), kExact);
  t.Add("StridedSlice", "x[::-1, 2:]", {Floats({6, 8})},
        strided({0, 2}, {0, 0}, {-1, 1}, Masks{1, 3, 0, 0, 0}), kExact);
  t.Add("StridedSlice", "x[2, :, 1:5] shrink", {Floats({4, 6, 8})},
        strided({2, 0, 1}, {3, 0, 5}, {1, 1, 1}, Masks{0, 2, 0, 0, 1}), kExact);
  t.Add("StridedSlice", "x[:, newaxis, 1:3]", {Ints(DT_INT32, {5, 6})},
        strided({0, 0, 1}, {0, 0, 3}, {1, 1, 1}, Masks{1, 1, 0, 2, 0}), kExact);
  t.Add("StridedSlice", "x[..., -2] int64 index", {Ints(DT_INT64, {3, 4, 5})},
        strided({0, -2}, {0, -1}, {1, 1}, Masks{0, 0, 1, 0, 2}, DT_INT64), kExact);
  t.Add("StridedSlice", "x[1:3, ::2]", {Bools({4, 7})},
        strided({1, 0}, {3, 0}, {1, 2}, Masks{0, 2, 0, 0, 0}), kExact);
  t.Add("StridedSlice", "whole", {Floats({3, 4})}, strided({0, 0}, {3, 4}, {1, 1}, Masks{}),
        kExact);

  // GatherV2 with batch_dims 0 and a Const axis; indices are in range (the GPU kernel gives
  // zeros where the CPU one fails).
  auto gather = [](int64_t axis) -> BuildFn {
    return [axis](const Scope& s, const Scope& root, const std::vector<Output>& x) {
      return OpNode(s, "GatherV2", {x[0], x[1], IndexConst(root, {axis}, DT_INT32, true)},
                    {{"Tparams", MakeAttr(x[0].dtype())},
                     {"Tindices", MakeAttr(x[1].dtype())},
                     {"Taxis", MakeAttr(DT_INT32)}});
    };
  };
  t.Add("GatherV2", "axis 0", {Floats({10, 6, 4}), Ints(DT_INT32, {3, 5}, 0, 9)}, gather(0),
        kExact);
  t.Add("GatherV2", "axis 1", {Floats({4, 6, 5}), Ints(DT_INT64, {7}, 0, 5)}, gather(1), kExact);
  t.Add("GatherV2", "axis -1", {Ints(DT_INT32, {3, 8}), Ints(DT_INT32, {2, 2}, 0, 7)}, gather(-1),
        kExact);
  t.Add("GatherV2", "scalar index", {Ints(DT_INT64, {9, 4}), Ints(DT_INT32, {}, 0, 8)}, gather(0),
        kExact);
  t.Add("GatherV2", "axis 0", {Bools({6, 3}), Ints(DT_INT64, {10}, 0, 5)}, gather(0), kExact);

  // Tile with Const multiples (int32 or int64).
  auto tile = [](std::vector<int64_t> multiples, DataType tmultiples = DT_INT32) -> BuildFn {
    return [=](const Scope& s, const Scope& root, const std::vector<Output>& x) {
      return OpNode(s, "Tile", {x[0], IndexConst(root, multiples, tmultiples)},
                    {{"T", MakeAttr(x[0].dtype())}, {"Tmultiples", MakeAttr(tmultiples)}});
    };
  };
  t.Add("Tile", "multiples [2,1,3]", {Floats({2, 3, 4})}, tile({2, 1, 3}), kExact);
  t.Add("Tile", "multiples [1,3,1,2]", {Floats({3, 2, 5, 4})}, tile({1, 3, 1, 2}), kExact);
  // The mean's gradient in the training step: one value repeated over the batch.
  t.Add("Tile", "multiples [128]", {Floats({1})}, tile({128}), kExact);
  t.Add("Tile", "multiples [4] int64", {Ints(DT_INT32, {5})}, tile({4}, DT_INT64), kExact);
  t.Add("Tile", "multiples [1,5]", {Ints(DT_INT64, {3, 1}, -1e12, 1e12)}, tile({1, 5}), kExact);
  t.Add("Tile", "multiples [3,2]", {Bools({2, 2})}, tile({3, 2}), kExact);
  t.Add("Tile", "multiples [1,1]", {Floats({4, 6})}, tile({1, 1}), kExact);
  t.Add("Tile", "multiples [2,0]", {Floats({4, 6})}, tile({2, 0}), kExact);

  // Fill: Const dims and value, so the graph has no placeholders at all.
  auto fill = [](std::vector<int64_t> dims, DataType dt, double value,
                 DataType index = DT_INT32) -> BuildFn {
    return [=](const Scope& s, const Scope& root, const std::vector<Output>&) {
      return OpNode(s, "Fill", {IndexConst(root, dims, index), ScalarOf(root, dt, value)},
                    {{"T", MakeAttr(dt)}, {"index_type", MakeAttr(index)}});
    };
  };
  t.Add("Fill", "float 2.5 [3,4,5]", {}, fill({3, 4, 5}, DT_FLOAT, 2.5), kExact);
  t.Add("Fill", "int32 -7 [1000]", {}, fill({1000}, DT_INT32, -7, DT_INT64), kExact);
  t.Add("Fill", "int64 1e12 [2,3]", {}, fill({2, 3}, DT_INT64, 1e12), kExact);
  t.Add("Fill", "bool true [4,4]", {}, fill({4, 4}, DT_BOOL, 1), kExact);
  t.Add("Fill", "float empty [3,0]", {}, fill({3, 0}, DT_FLOAT, 1), kExact);

  for (const char* op : {"ZerosLike", "OnesLike"}) {
    for (DataType dt : kArrayTypes) t.Unary(op, typed(dt, {4, 33}), kExact);
  }
}

void AddCoreCases(Table& t) {
  const DataType kTypes[] = {DT_FLOAT, DT_INT32, DT_INT64, DT_BOOL, DT_DOUBLE, DT_UINT8};
  auto typed = [](DataType dt, std::vector<int64_t> shape) {
    return dt == DT_BOOL ? Bools(std::move(shape)) : Typed(dt, std::move(shape));
  };
  for (const char* op : {"Identity", "StopGradient"}) {
    for (DataType dt : kTypes) t.Unary(op, typed(dt, {3, 17}), kExact);
  }

  auto squeeze = [](std::vector<int64_t> dims) -> BuildFn {
    return [dims](const Scope& s, const Scope&, const std::vector<Output>& x) {
      return OpNode(s, "Squeeze", x,
                    {{"T", MakeAttr(x[0].dtype())}, {"squeeze_dims", MakeAttr(dims)}});
    };
  };
  t.Add("Squeeze", "all", {Floats({1, 5, 1, 3})}, squeeze({}), kExact);
  t.Add("Squeeze", "dims [2]", {Floats({1, 5, 1, 3})}, squeeze({2}), kExact);
  t.Add("Squeeze", "dims [-4]", {Ints(DT_INT64, {1, 5, 1, 3})}, squeeze({-4}), kExact);
  t.Add("Squeeze", "all", {Bools({4, 1})}, squeeze({}), kExact);

  auto reshape = [](std::vector<int64_t> shape, DataType tshape = DT_INT32) -> BuildFn {
    return [shape, tshape](const Scope& s, const Scope& root, const std::vector<Output>& x) {
      return OpNode(s, "Reshape", {x[0], IndexConst(root, shape, tshape)},
                    {{"T", MakeAttr(x[0].dtype())}, {"Tshape", MakeAttr(tshape)}});
    };
  };
  t.Add("Reshape", "to [-1,3,2]", {Floats({4, 6})}, reshape({-1, 3, 2}), kExact);
  t.Add("Reshape", "to [24] int64 shape", {Ints(DT_INT32, {4, 6})}, reshape({24}, DT_INT64),
        kExact);
  t.Add("Reshape", "to [2,-1]", {Ints(DT_INT64, {3, 2, 2})}, reshape({2, -1}), kExact);
  t.Add("Reshape", "to [5,2]", {Bools({10})}, reshape({5, 2}), kExact);
  t.Add("Reshape", "to [3,1]", {Typed(DT_DOUBLE, {3})}, reshape({3, 1}), kExact);

  auto expand = [](int64_t axis, DataType tdim = DT_INT32) -> BuildFn {
    return [axis, tdim](const Scope& s, const Scope& root, const std::vector<Output>& x) {
      return OpNode(s, "ExpandDims", {x[0], IndexConst(root, {axis}, tdim, true)},
                    {{"T", MakeAttr(x[0].dtype())}, {"Tdim", MakeAttr(tdim)}});
    };
  };
  t.Add("ExpandDims", "axis 0", {Floats({4, 6})}, expand(0), kExact);
  t.Add("ExpandDims", "axis -1 int64", {Floats({4, 6})}, expand(-1, DT_INT64), kExact);
  t.Add("ExpandDims", "axis 1", {Ints(DT_INT32, {4, 6})}, expand(1), kExact);
  t.Add("ExpandDims", "axis 0", {Bools({3})}, expand(0), kExact);
}

void AddReductionCases(Table& t) {
  auto reduce = [](const std::string& op, std::vector<int64_t> axes, bool keep_dims,
                   bool scalar_axis = false, DataType tidx = DT_INT32) -> BuildFn {
    return [=](const Scope& s, const Scope& root, const std::vector<Output>& x) {
      return OpNode(s, op, {x[0], IndexConst(root, axes, tidx, scalar_axis)},
                    {{"T", MakeAttr(x[0].dtype())},
                     {"Tidx", MakeAttr(tidx)},
                     {"keep_dims", MakeAttr(keep_dims)}});
    };
  };
  for (const char* op : {"Sum", "Mean", "Max", "Min"}) {
    // Max and Min pick an element: exact. Sums are compared relatively, so their terms lean
    // positive ([-1, 3]): no sum comes near 0, where only the terms' size would bound the error.
    const std::string name = op;
    const bool pick = name == "Max" || name == "Min";
    const Tol tol = pick ? kExact : kAccumulating;
    const double lo = pick ? -3 : -1;
    t.Add(op, "axes [1]", {Floats({16, 64, 33}, lo, 3)}, reduce(op, {1}, false), tol);
    t.Add(op, "axes [0,2] keep_dims", {Floats({16, 64, 33}, lo, 3)}, reduce(op, {0, 2}, true), tol);
    t.Add(op, "axis -1 scalar", {Floats({16, 64, 33}, lo, 3)}, reduce(op, {-1}, false, true), tol);
    t.Add(op, "all axes int64", {Floats({16, 64, 33}, lo, 3)},
          reduce(op, {0, 1, 2}, false, false, DT_INT64), tol);
    t.Add(op, "long row", {Floats({3, 5000}, lo, 3)}, reduce(op, {1}, false), tol);
    t.Add(op, "no axes", {Floats({4, 5})}, reduce(op, {}, false), kExact);
    for (DataType dt : {DT_INT32, DT_INT64}) {
      const double big = dt == DT_INT64 ? 1e12 : 1e5;
      // The CPU's Mean takes floats only: the integer mean is Sum / count, truncated (Div).
      auto mean = [&](std::vector<int64_t> axes, bool keep_dims, int64_t count) -> BuildFn {
        if (name != "Mean") return nullptr;
        return [=](const Scope& s, const Scope& root, const std::vector<Output>& x) {
          Output sum = OpNode(root, "Sum", {x[0], IndexConst(root, axes)},
                              {{"T", MakeAttr(dt)}, {"keep_dims", MakeAttr(keep_dims)}});
          return OpNode(s, "Div", {sum, ScalarOf(root, dt, static_cast<double>(count))},
                        {{"T", MakeAttr(dt)}});
        };
      };
      t.Add(op, "axes [1]", {Ints(dt, {12, 40}, -big, big)}, reduce(op, {1}, false), kExact,
            mean({1}, false, 40));
      t.Add(op, "axes [0] keep_dims", {Ints(dt, {12, 40}, -big, big)}, reduce(op, {0}, true),
            kExact, mean({0}, true, 12));
    }
  }
  // Products of few factors near 1 (floats) or small integers, so nothing overflows.
  t.Add("Prod", "axes [1]", {Floats({6, 8}, 0.5, 1.5)}, reduce("Prod", {1}, false), kAccumulating);
  t.Add("Prod", "axes [0] keep_dims", {Floats({6, 8}, -1.5, 1.5)}, reduce("Prod", {0}, true),
        kAccumulating);
  t.Add("Prod", "all axes", {Floats({2, 3, 4}, 0.8, 1.2)}, reduce("Prod", {0, 1, 2}, false),
        kAccumulating);
  t.Add("Prod", "axes [1]", {Ints(DT_INT32, {6, 8}, -3, 3)}, reduce("Prod", {1}, false), kExact);
  t.Add("Prod", "axes [0]", {Ints(DT_INT64, {12, 5}, -20, 20)}, reduce("Prod", {0}, false), kExact);

  auto arg = [](const std::string& op, int64_t axis, DataType output_type) -> BuildFn {
    return [=](const Scope& s, const Scope& root, const std::vector<Output>& x) {
      return OpNode(s, op, {x[0], IndexConst(root, {axis}, DT_INT32, true)},
                    {{"T", MakeAttr(x[0].dtype())},
                     {"Tidx", MakeAttr(DT_INT32)},
                     {"output_type", MakeAttr(output_type)}});
    };
  };
  for (const char* op : {"ArgMax", "ArgMin"}) {
    t.Add(op, "axis 1", {Floats({7, 33})}, arg(op, 1, DT_INT64), kExact);
    t.Add(op, "axis 0 int32 out", {Floats({7, 33})}, arg(op, 0, DT_INT32), kExact);
    t.Add(op, "axis -1", {Floats({4, 5, 6})}, arg(op, -1, DT_INT64), kExact);
    t.Add(op, "long row", {Floats({2, 5000})}, arg(op, 1, DT_INT64), kExact);
    // Ties: the first index wins, as in TensorFlow.
    t.Add(op, "ties", {Ints(DT_INT32, {9, 20}, -3, 3)}, arg(op, 1, DT_INT64), kExact);
    t.Add(op, "", {Ints(DT_INT64, {9, 20}, -1e10, 1e10)}, arg(op, 0, DT_INT32), kExact);
  }
}

// The cuDNN kernels (convolution, pooling, batch norm) are registered only in a build whose
// CUDA toolkit has cuDNN (kernels/gpu/ops/BUILD). A CUDA build without it registers the other
// GPU ops but not these, and their cases would fail the coverage check's second half.
bool GpuHasCudnnKernels() {
  const std::vector<std::string> ops = DefaultKernelRegistry().Ops(kDeviceGpu);
  return ops.empty() || std::find(ops.begin(), ops.end(), "Conv2D") != ops.end();
}

// A float Const of `shape` with values uniform in [-1, 1) drawn from `seed` (the same in the
// GPU and the CPU graph): a filter the GPU kernel converts once, when it is constructed.
Output FloatConst(const Scope& root, const std::vector<int64_t>& shape, uint32_t seed) {
  Tensor t(DT_FLOAT, TensorShape(shape));
  std::mt19937 rng(seed);
  DrawValues(Floats(shape, -1, 1), rng, t.data<float>(), t.num_elements());
  TensorProto proto;
  t.ToProto(&proto);
  return ops::Const(root, proto);
}

void AddConvCases(Table& t) {
  // Window attrs in NHWC order. SAME pads (total / 2, total - total / 2): an odd total (an even
  // filter at stride 1, or stride 2 over an even size with a 3-wide window) pads one more after,
  // which cuDNN cannot do itself; EXPLICIT pads may be larger before or after.
  struct Window {
    std::vector<int64_t> strides;
    std::string padding;
    std::vector<int64_t> dilations;
    std::vector<int64_t> explicit_paddings;
  };
  auto window = [](int64_t stride, const std::string& padding, int64_t dilation = 1,
                   std::vector<int64_t> explicit_paddings = {}) {
    return Window{
        {1, stride, stride, 1}, padding, {1, dilation, dilation, 1}, std::move(explicit_paddings)};
  };
  // Conv2D-like ops: x[0] the NHWC input, x[1] the filter (HWIO; [kh, kw, C, multiplier] for
  // depthwise), x[2] the fused forms' bias. `const_filter`: the filter is a Const of that shape
  // instead of x[1].
  auto conv = [](const std::string& op, Window w, std::vector<std::string> fused_ops = {},
                 std::vector<int64_t> const_filter = {}) -> BuildFn {
    return [=](const Scope& s, const Scope& root, const std::vector<Output>& x) {
      Attrs attrs = {{"T", MakeAttr(DT_FLOAT)},
                     {"strides", MakeAttr(w.strides)},
                     {"padding", MakeAttr(w.padding)},
                     {"dilations", MakeAttr(w.dilations)}};
      if (!w.explicit_paddings.empty()) {
        attrs.push_back({"explicit_paddings", MakeAttr(w.explicit_paddings)});
      }
      if (!fused_ops.empty()) {
        attrs.push_back({"fused_ops", MakeAttr(fused_ops)});
        attrs.push_back({"num_args", MakeAttr(int64_t{1})});
        if (op == "_FusedConv2D") {
          attrs.push_back({"TArgs", MakeAttr(std::vector<DataType>{DT_FLOAT})});
        }
      }
      std::vector<Output> inputs = x;
      if (!const_filter.empty()) {
        inputs.insert(inputs.begin() + 1, FloatConst(root, const_filter, 7));
      }
      return OpNode(s, op, inputs, attrs);
    };
  };

  // Conv2D: SAME with symmetric and asymmetric padding, VALID, strides 2, dilation 2, EXPLICIT
  // padding larger on either side, groups (a filter shallower than the input), 1x1, a Const
  // filter.
  t.Add("Conv2D", "SAME 3x3", {Floats({2, 9, 11, 5}, -1, 1), Floats({3, 3, 5, 7}, -1, 1)},
        conv("Conv2D", window(1, "SAME")), kAccumulating);
  t.Add("Conv2D", "SAME stride 2 asymmetric",
        {Floats({2, 11, 10, 6}, -1, 1), Floats({3, 3, 6, 8}, -1, 1)},
        conv("Conv2D", window(2, "SAME")), kAccumulating);
  t.Add("Conv2D", "SAME 4x4 asymmetric", {Floats({1, 7, 9, 3}, -1, 1), Floats({4, 4, 3, 5}, -1, 1)},
        conv("Conv2D", window(1, "SAME")), kAccumulating);
  t.Add("Conv2D", "VALID stride 2", {Floats({2, 13, 12, 4}, -1, 1), Floats({3, 2, 4, 6}, -1, 1)},
        conv("Conv2D", window(2, "VALID")), kAccumulating);
  t.Add("Conv2D", "SAME dilation 2", {Floats({2, 10, 9, 4}, -1, 1), Floats({3, 3, 4, 5}, -1, 1)},
        conv("Conv2D", window(1, "SAME", 2)), kAccumulating);
  t.Add("Conv2D", "SAME stride 2 dilation 2 asymmetric",
        {Floats({2, 10, 9, 4}, -1, 1), Floats({3, 3, 4, 5}, -1, 1)},
        conv("Conv2D", window(2, "SAME", 2)), kAccumulating);
  t.Add("Conv2D", "EXPLICIT [2,1] [0,3]",
        {Floats({2, 8, 9, 3}, -1, 1), Floats({3, 3, 3, 4}, -1, 1)},
        conv("Conv2D", window(1, "EXPLICIT", 1, {0, 0, 2, 1, 0, 3, 0, 0})), kAccumulating);
  t.Add("Conv2D", "groups 2", {Floats({2, 7, 8, 6}, -1, 1), Floats({3, 3, 3, 8}, -1, 1)},
        conv("Conv2D", window(1, "SAME")), kAccumulating);
  t.Add("Conv2D", "1x1", {Floats({4, 5, 6, 32}, -1, 1), Floats({1, 1, 32, 16}, -1, 1)},
        conv("Conv2D", window(1, "VALID")), kAccumulating);
  t.Add("Conv2D", "Const filter SAME stride 2", {Floats({2, 11, 10, 6}, -1, 1)},
        conv("Conv2D", window(2, "SAME"), {}, {3, 3, 6, 8}), kAccumulating);

  // DepthwiseConv2dNative: channel multipliers 1, 2, 3.
  t.Add("DepthwiseConv2dNative", "SAME multiplier 2",
        {Floats({2, 9, 10, 6}, -1, 1), Floats({3, 3, 6, 2}, -1, 1)},
        conv("DepthwiseConv2dNative", window(1, "SAME")), kAccumulating);
  t.Add("DepthwiseConv2dNative", "SAME stride 2 asymmetric",
        {Floats({2, 11, 10, 8}, -1, 1), Floats({3, 3, 8, 1}, -1, 1)},
        conv("DepthwiseConv2dNative", window(2, "SAME")), kAccumulating);
  t.Add("DepthwiseConv2dNative", "VALID dilation 2 multiplier 2",
        {Floats({1, 12, 11, 4}, -1, 1), Floats({3, 3, 4, 2}, -1, 1)},
        conv("DepthwiseConv2dNative", window(1, "VALID", 2)), kAccumulating);
  t.Add("DepthwiseConv2dNative", "SAME 4x4 multiplier 3",
        {Floats({1, 6, 7, 5}, -1, 1), Floats({4, 4, 5, 3}, -1, 1)},
        conv("DepthwiseConv2dNative", window(1, "SAME")), kAccumulating);
  t.Add("DepthwiseConv2dNative", "EXPLICIT [1,0] [0,2]",
        {Floats({2, 7, 8, 3}, -1, 1), Floats({2, 2, 3, 2}, -1, 1)},
        conv("DepthwiseConv2dNative", window(1, "EXPLICIT", 1, {0, 0, 1, 0, 0, 2, 0, 0})),
        kAccumulating);
  t.Add("DepthwiseConv2dNative", "Const filter SAME multiplier 2", {Floats({2, 9, 10, 6}, -1, 1)},
        conv("DepthwiseConv2dNative", window(1, "SAME"), {}, {3, 3, 6, 2}), kAccumulating);

  // The fused forms: BiasAdd alone and with every activation the GPU fuses.
  for (const char* activation : {"", "Relu", "Relu6", "Tanh", "Sigmoid", "Elu"}) {
    std::vector<std::string> fused_ops = {"BiasAdd"};
    if (*activation != '\0') fused_ops.push_back(activation);
    const std::string label = absl::StrJoin(fused_ops, "+");
    t.Add("_FusedConv2D", label + " SAME stride 2",
          {Floats({2, 9, 10, 5}, -1, 1), Floats({3, 3, 5, 6}, -1, 1), Floats({6}, -1, 1)},
          conv("_FusedConv2D", window(2, "SAME"), fused_ops), kAccumulating);
    t.Add("_FusedDepthwiseConv2dNative", label + " SAME multiplier 2",
          {Floats({2, 9, 10, 4}, -1, 1), Floats({3, 3, 4, 2}, -1, 1), Floats({8}, -1, 1)},
          conv("_FusedDepthwiseConv2dNative", window(1, "SAME"), fused_ops), kAccumulating);
  }
  t.Add(
      "_FusedConv2D", "BiasAdd+Relu EXPLICIT dilation 2",
      {Floats({2, 9, 8, 4}, -1, 1), Floats({3, 3, 4, 6}, -1, 1), Floats({6}, -1, 1)},
      conv("_FusedConv2D", window(1, "EXPLICIT", 2, {0, 0, 1, 3, 2, 0, 0, 0}), {"BiasAdd", "Relu"}),
      kAccumulating);
  t.Add("_FusedDepthwiseConv2dNative", "BiasAdd+Relu6 VALID stride 2",
        {Floats({2, 11, 10, 4}, -1, 1), Floats({3, 3, 4, 1}, -3, 3), Floats({4}, -1, 1)},
        conv("_FusedDepthwiseConv2dNative", window(2, "VALID"), {"BiasAdd", "Relu6"}),
        kAccumulating);

  // Pooling: x[0] the NHWC input; ksize and strides over H and W.
  auto pool = [](const std::string& op, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                 const std::string& padding,
                 std::vector<int64_t> explicit_paddings = {}) -> BuildFn {
    return [=](const Scope& s, const Scope&, const std::vector<Output>& x) {
      Attrs attrs = {{"T", MakeAttr(DT_FLOAT)},
                     {"ksize", MakeAttr(std::vector<int64_t>{1, kh, kw, 1})},
                     {"strides", MakeAttr(std::vector<int64_t>{1, sh, sw, 1})},
                     {"padding", MakeAttr(padding)}};
      if (!explicit_paddings.empty()) {
        attrs.push_back({"explicit_paddings", MakeAttr(explicit_paddings)});
      }
      return OpNode(s, op, x, attrs);
    };
  };
  for (const char* op : {"MaxPool", "AvgPool"}) {
    // A max or a mean of exact inputs: the GPU sums windows in another order.
    t.Add(op, "3x3 stride 2 SAME asymmetric", {Floats({2, 11, 10, 7})},
          pool(op, 3, 3, 2, 2, "SAME"), kAccumulating);
    t.Add(op, "3x3 SAME symmetric", {Floats({2, 8, 9, 5})}, pool(op, 3, 3, 1, 1, "SAME"),
          kAccumulating);
    t.Add(op, "2x2 stride 2 VALID", {Floats({3, 8, 9, 16})}, pool(op, 2, 2, 2, 2, "VALID"),
          kAccumulating);
    t.Add(op, "2x2 SAME asymmetric", {Floats({2, 7, 6, 5})}, pool(op, 2, 2, 1, 1, "SAME"),
          kAccumulating);
    t.Add(op, "5x4 stride 3x2 SAME", {Floats({1, 10, 11, 3})}, pool(op, 5, 4, 3, 2, "SAME"),
          kAccumulating);
  }
  // Padding never wins a max, even over negative inputs; EXPLICIT padding larger before in H
  // and after in W.
  t.Add("MaxPool", "3x3 stride 2 SAME negative", {Floats({2, 11, 10, 7}, -5, -1)},
        pool("MaxPool", 3, 3, 2, 2, "SAME"), kAccumulating);
  t.Add("MaxPool", "EXPLICIT [2,0] [1,2] negative", {Floats({2, 6, 7, 3}, -5, -1)},
        pool("MaxPool", 3, 3, 1, 1, "EXPLICIT", {0, 0, 2, 0, 1, 2, 0, 0}), kAccumulating);

  // FusedBatchNorm (V1, V2, V3) in inference: x, scale, offset, mean and a positive variance.
  auto batch_norm = [](const std::string& op, double epsilon) -> BuildFn {
    return [=](const Scope& s, const Scope&, const std::vector<Output>& x) {
      Attrs attrs = {{"T", MakeAttr(DT_FLOAT)},
                     {"epsilon", MakeAttr(static_cast<float>(epsilon))},
                     {"is_training", MakeAttr(false)}};
      if (op != "FusedBatchNorm") attrs.push_back({"U", MakeAttr(DT_FLOAT)});
      return OpNode(s, op, x, attrs);
    };
  };
  auto stats = [](int64_t c) {
    return std::vector<In>{Floats({c}, 0.5, 2), Floats({c}, -1, 1), Floats({c}, -1, 1),
                           Floats({c}, 0.1, 2)};
  };
  auto with_x = [](In x, std::vector<In> rest) {
    rest.insert(rest.begin(), std::move(x));
    return rest;
  };
  t.Add("FusedBatchNorm", "epsilon 1e-3", with_x(Floats({2, 5, 7, 16}), stats(16)),
        batch_norm("FusedBatchNorm", 1e-3), kAccumulating);
  t.Add("FusedBatchNormV2", "epsilon 1e-5", with_x(Floats({3, 4, 6, 5}), stats(5)),
        batch_norm("FusedBatchNormV2", 1e-5), kAccumulating);
  t.Add("FusedBatchNormV3", "epsilon 1e-3", with_x(Floats({2, 9, 11, 32}), stats(32)),
        batch_norm("FusedBatchNormV3", 1e-3), kAccumulating);
  t.Add("FusedBatchNormV3", "one pixel", with_x(Floats({1, 1, 1, 3}), stats(3)),
        batch_norm("FusedBatchNormV3", 1e-4), kAccumulating);
}

// Comparisons (bool results, broadcasting; small integer ranges so equal pairs occur) and the
// logical ops.
void AddCompareCases(Table& t) {
  for (const char* op : {"Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual"}) {
    // Multiples of 0.5 in [-2, 2]: ties occur, so Less and LessEqual differ.
    t.Binary(op, Floats({4, 1, 9}, -2, 2, Draw::kHalves), Floats({3, 9}, -2, 2, Draw::kHalves),
             kExact, "broadcast");
    t.Binary(op, Ints(DT_INT32, {5, 7}, -3, 3), Ints(DT_INT32, {5, 7}, -3, 3), kExact,
             "same shape");
    t.Binary(op, Ints(DT_INT64, {}, -3, 3), Ints(DT_INT64, {6, 4}, -3, 3), kExact, "scalar lhs");
    t.Binary(op, Floats({6, 4}, -2, 2, Draw::kHalves), Floats({}, -2, 2, Draw::kHalves), kExact,
             "scalar rhs");
  }
  for (const char* op : {"Equal", "NotEqual"}) {
    t.Binary(op, Bools({2, 8}), Bools({8}), kExact, "bools");
    t.Binary(op, Bools({4, 37}), Bools({4, 37}), kExact, "bools, same shape");
  }
  auto logical = [](const std::string& op) -> BuildFn {
    return [op](const Scope& s, const Scope&, const std::vector<Output>& x) {
      return OpNode(s, op, x, {});
    };
  };
  for (const char* op : {"LogicalAnd", "LogicalOr"}) {
    t.Add(op, "broadcast", {Bools({3, 1, 6}), Bools({4, 6})}, logical(op), kExact);
    t.Add(op, "scalar rhs", {Bools({10}), Bools({})}, logical(op), kExact);
    t.Add(op, "same shape", {Bools({4, 37}), Bools({4, 37})}, logical(op), kExact);
  }
  t.Add("LogicalNot", "", {Bools({7, 5})}, logical("LogicalNot"), kExact);
}

const std::vector<Case>& Cases() {
  static const std::vector<Case>* cases = [] {
    Table t;
    AddUnaryCases(t);
    AddBinaryCases(t);
    AddCompareCases(t);
    AddNnCases(t);
    AddNnGradCases(t);
    AddCastCases(t);
    AddMatMulCases(t);
    AddArrayCases(t);
    AddCoreCases(t);
    AddReductionCases(t);
    if (GpuHasCudnnKernels()) AddConvCases(t);
    return new std::vector<Case>(t.cases());
  }();
  return *cases;
}

// ---- The graphs ------------------------------------------------------------------------------

// The name scope of case `i`: "case012_AddV2".
std::string CasePrefix(size_t i) {
  std::ostringstream index;
  index.width(3);
  index.fill('0');
  index << i;
  return absl::StrCat("case", index.str(), "_", Cases()[i].op);
}
std::string CaseNode(size_t i) { return absl::StrCat(CasePrefix(i), "/", kNodeName); }
// The tensor case `i` compares: the node's output 0, or the one the case names.
std::string CaseFetch(size_t i) {
  const int output = Cases()[i].output;
  return output == 0 ? CaseNode(i) : absl::StrCat(CaseNode(i), ":", output);
}
std::string PlaceholderName(size_t i, size_t k) { return absl::StrCat(CasePrefix(i), "/x", k); }

// Every case under its own name scope; with `device` set, each node under test asks for it.
// `reference`: the CPU graph, where cases with a reference build it instead of the op.
GraphDef BuildGraph(const std::string& device, bool reference) {
  Scope root = Scope::NewRootScope();
  const std::vector<Case>& cases = Cases();
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    Scope scope = root.NewSubScope(CasePrefix(i));
    std::vector<Output> x;
    for (size_t k = 0; k < c.inputs.size(); ++k) {
      x.push_back(ops::Placeholder(scope.WithOpName(absl::StrCat("x", k)), c.inputs[k].dtype,
                                   PartialShape(c.inputs[k].shape)));
    }
    Scope op_scope = scope.WithOpName(kNodeName);
    if (!device.empty()) op_scope = op_scope.WithDevice(device);
    Output out =
        reference && c.reference ? c.reference(op_scope, scope, x) : c.build(op_scope, scope, x);
    if (!root.ok()) break;
    INFO("case " << i << ": " << c.label);
    REQUIRE(out.ok());
    REQUIRE(out.node()->name() == CaseNode(i));
  }
  INFO(root.status().ToString());
  REQUIRE(root.ok());
  GraphDef def;
  REQUIRE(root.ToGraphDef(&def).ok());
  return def;
}

// Feeds of case `i`, the same on every call (seeded by the case's label).
std::vector<std::pair<std::string, Tensor>> Feeds(size_t i) {
  const Case& c = Cases()[i];
  uint32_t seed = 2166136261u;  // FNV-1a of the label
  for (unsigned char ch : c.label) seed = (seed ^ ch) * 16777619u;
  std::mt19937 rng(seed);
  std::vector<std::pair<std::string, Tensor>> feeds;
  for (size_t k = 0; k < c.inputs.size(); ++k) {
    feeds.emplace_back(PlaceholderName(i, k), MakeInput(c.inputs[k], rng));
  }
  return feeds;
}

// Placement log lines, collected under a lock.
struct PlacementLog {
  absl::Mutex mu;
  std::vector<std::string> lines;
  void Clear() {
    absl::MutexLock lock(&mu);
    lines.clear();
  }
  bool Has(const std::string& line) {
    absl::MutexLock lock(&mu);
    return std::find(lines.begin(), lines.end(), line) != lines.end();
  }
};

// The reference: the CPU graph on the CPU. `graph_of_gpu_cases` instead builds the graph the
// GPU session runs (for the registry check without a GPU; never run).
std::unique_ptr<Session> CpuSession(bool graph_of_gpu_cases = false) {
  SessionOptions options;
  options.num_gpu_devices = 0;
  options.opt_level = 0;
  GraphDef def = graph_of_gpu_cases ? BuildGraph(kGpu, false) : BuildGraph("", true);
  absl::StatusOr<std::unique_ptr<Session>> session = Session::Create(def, options);
  INFO(session.status().ToString());
  REQUIRE(session.ok());
  REQUIRE((*session)->gpu_device() == nullptr);
  return *std::move(session);
}

// Null when the session found no GPU.
std::unique_ptr<Session> GpuSession(PlacementLog* log) {
  SessionOptions options;
  options.opt_level = 0;
  options.allow_soft_placement = false;
  options.placement_log = [log](const std::string& line) {
    absl::MutexLock lock(&log->mu);
    log->lines.push_back(line);
  };
  absl::StatusOr<std::unique_ptr<Session>> session =
      Session::Create(BuildGraph(kGpu, false), options);
  INFO(session.status().ToString());
  REQUIRE(session.ok());
  if ((*session)->gpu_device() == nullptr) return nullptr;
  return *std::move(session);
}

// ---- Comparison ------------------------------------------------------------------------------

template <typename T>
std::string CompareExact(const Tensor& gpu, const Tensor& cpu) {
  int64_t bad = 0, first = -1;
  for (int64_t i = 0; i < cpu.num_elements(); ++i) {
    if (gpu.data<T>()[i] != cpu.data<T>()[i]) {
      if (bad++ == 0) first = i;
    }
  }
  if (bad == 0) return "";
  std::ostringstream os;
  os << bad << " of " << cpu.num_elements() << " elements differ; first at flat index " << first
     << ": gpu " << +gpu.data<T>()[first] << ", cpu " << +cpu.data<T>()[first];
  return os.str();
}

template <typename T>
std::string CompareFloat(const Tensor& gpu, const Tensor& cpu, const Tol& tol) {
  if (tol.rel == 0) return CompareExact<T>(gpu, cpu);
  constexpr double kInf = std::numeric_limits<double>::infinity();
  int64_t bad = 0, worst = -1;
  double worst_ratio = 0;
  for (int64_t i = 0; i < cpu.num_elements(); ++i) {
    const double g = gpu.data<T>()[i], c = cpu.data<T>()[i];
    if (std::isnan(g) || std::isnan(c) || std::isinf(g) || std::isinf(c)) {
      const bool same = (std::isnan(g) && std::isnan(c)) || g == c;
      if (!same) {
        ++bad;
        if (worst_ratio < kInf) worst = i;
        worst_ratio = kInf;
      }
      continue;
    }
    const double ratio = std::abs(g - c) / (tol.rel * std::max(std::abs(c), tol.floor));
    if (ratio > 1) ++bad;
    if (ratio > worst_ratio) {
      worst_ratio = ratio;
      worst = i;
    }
  }
  if (bad == 0) return "";
  std::ostringstream os;
  os.precision(9);
  os << bad << " of " << cpu.num_elements() << " elements outside " << tol.rel
     << " relative (floor " << tol.floor << "); worst at flat index " << worst << ": gpu "
     << gpu.data<T>()[worst] << ", cpu " << cpu.data<T>()[worst] << " (" << worst_ratio
     << "x the tolerance)";
  return os.str();
}

// Empty when the results agree, else what differs.
std::string Mismatch(const Tensor& gpu, const Tensor& cpu, const Tol& tol) {
  if (gpu.dtype() != cpu.dtype()) {
    return absl::StrCat("dtype ", DataTypeString(gpu.dtype()), " on the GPU, ",
                        DataTypeString(cpu.dtype()), " on the CPU");
  }
  if (gpu.shape() != cpu.shape()) {
    return absl::StrCat("shape ", gpu.shape().ToString(), " on the GPU, ", cpu.shape().ToString(),
                        " on the CPU");
  }
  switch (cpu.dtype()) {
    case DT_FLOAT:
      return CompareFloat<float>(gpu, cpu, tol);
    case DT_DOUBLE:
      return CompareFloat<double>(gpu, cpu, tol);
    case DT_INT32:
      return CompareExact<int32_t>(gpu, cpu);
    case DT_INT64:
      return CompareExact<int64_t>(gpu, cpu);
    case DT_UINT8:
      return CompareExact<uint8_t>(gpu, cpu);
    case DT_BOOL:
      return CompareExact<bool>(gpu, cpu);
    default:
      return absl::StrCat("no comparison for dtype ", DataTypeString(cpu.dtype()));
  }
}

// ---- Tests -----------------------------------------------------------------------------------

TEST_CASE("conformance: every GPU op has a case (runs without a GPU)") {
  const std::vector<std::string> gpu_ops = DefaultKernelRegistry().Ops(kDeviceGpu);
#ifdef WEIR_HAVE_CUDA
  // A CUDA build registers the GPU kernels whether or not a GPU is present.
  REQUIRE_FALSE(gpu_ops.empty());
#endif
  if (gpu_ops.empty()) {
    WARN("no GPU kernels registered (a build without CUDA): nothing to cover");
    return;
  }
  std::set<std::string> covered;
  for (const Case& c : Cases()) covered.insert(c.op);
  WARN(gpu_ops.size() << " GPU ops registered, " << Cases().size() << " conformance cases");
  // _WeirElementwiseChain exists only inside a GPU session's plan (made after placement, no
  // CPU kernel): tests/kernels/gpu/gpu_chain_test.cc holds it to the bits of its ops run one by
  // one, and tests/runtime/gpu/gpu_session_test.cc compares fused chains with the CPU.
  const std::set<std::string> exempt = {"_Send", "_Recv", "Const", "_WeirElementwiseChain"};
  std::set<std::string> registered;
  for (const std::string& op : gpu_ops) {
    registered.insert(op);
    if (exempt.count(op) != 0) continue;
    INFO("GPU op " << op << " has no conformance case: add one to the table in this file");
    CHECK(covered.count(op) == 1);
  }
  // And the table tests only what the GPU registers.
  for (const std::string& op : covered) {
    INFO("the table has cases for " << op << ", which has no GPU kernel");
    CHECK(registered.count(op) == 1);
  }
}

TEST_CASE("conformance: every case builds, has a GPU kernel and runs on the CPU") {
  std::unique_ptr<Session> cpu = CpuSession();
  std::unique_ptr<Session> gpu_graph = CpuSession(/*graph_of_gpu_cases=*/true);
  const bool gpu_rows = !DefaultKernelRegistry().Ops(kDeviceGpu).empty();
  if (!gpu_rows) WARN("no GPU kernels registered: the registry check is skipped");
  const std::vector<Case>& cases = Cases();
  for (size_t i = 0; i < cases.size(); ++i) {
    INFO("case " << i << ": " << cases[i].label);
    const Node* node = gpu_graph->graph().FindNode(CaseNode(i));
    REQUIRE(node != nullptr);
    CHECK(node->op() == cases[i].op);
    CHECK(node->requested_device() == kGpu);
    if (gpu_rows) {
      // The row and its constraint accept the node (no device needed to ask).
      absl::StatusOr<const KernelDef*> row = DefaultKernelRegistry().Find(*node, kDeviceGpu);
      INFO(row.status().ToString());
      CHECK(row.ok());
    }
    std::vector<Tensor> out;
    absl::Status s = cpu->Run(Feeds(i), {CaseFetch(i)}, {}, &out);
    INFO(s.ToString());
    CHECK(s.ok());
    if (s.ok()) CHECK(out.size() == 1);
  }
}

TEST_CASE("conformance: the comparison flags what differs (runs without a GPU)") {
  const Tensor want = Tensor::FromVector<float>({1.f, -200.f, 0.f, 1e-4f}, {4});
  CHECK(Mismatch(want, want, kExact).empty());
  // 1e-5 relative: 200 * (1 + 5e-6) passes, 200 * (1 + 5e-5) does not.
  CHECK(Mismatch(Tensor::FromVector<float>({1.f, -200.001f, 0.f, 1e-4f}, {4}), want, Elementwise())
            .empty());
  CHECK_FALSE(
      Mismatch(Tensor::FromVector<float>({1.f, -200.01f, 0.f, 1e-4f}, {4}), want, Elementwise())
          .empty());
  // Near 0 the floor: 5e-8 away from 0 passes (1e-5 * 1e-2), 5e-7 does not.
  CHECK(Mismatch(Tensor::FromVector<float>({1.f, -200.f, 5e-8f, 1e-4f}, {4}), want, Elementwise())
            .empty());
  CHECK_FALSE(
      Mismatch(Tensor::FromVector<float>({1.f, -200.f, 5e-7f, 1e-4f}, {4}), want, Elementwise())
          .empty());
  // Exact means exact, and NaN matches only NaN.
  CHECK_FALSE(Mismatch(Tensor::FromVector<float>({1.f, -200.f, 0.f, 1.0001e-4f}, {4}), want, kExact)
                  .empty());
  CHECK_FALSE(
      Mismatch(Tensor::FromVector<float>({1.f, -200.f, NAN, 1e-4f}, {4}), want, kAccumulating)
          .empty());
  // Integers and bools exactly, whatever the tolerance; dtype and shape must match.
  const Tensor ints = Tensor::FromVector<int64_t>({5, 1LL << 40}, {2});
  CHECK(Mismatch(ints, ints, kAccumulating).empty());
  CHECK_FALSE(Mismatch(Tensor::FromVector<int64_t>({5, (1LL << 40) + 1}, {2}), ints, kAccumulating)
                  .empty());
  CHECK_FALSE(Mismatch(Tensor::FromVector<bool>({true, false}, {2}),
                       Tensor::FromVector<bool>({true, true}, {2}), kExact)
                  .empty());
  CHECK_FALSE(Mismatch(Tensor::FromVector<int32_t>({5, 6}, {2}), ints, kExact).empty());
  CHECK_FALSE(Mismatch(Tensor::FromVector<int64_t>({5, 1LL << 40}, {1, 2}), ints, kExact).empty());
}

TEST_CASE("conformance: every GPU op computes what the CPU computes") {
  if (GpuDeviceCount() == 0) {
    WARN("SKIPPED: no GPU");
    return;
  }
  PlacementLog log;
  std::unique_ptr<Session> gpu = GpuSession(&log);
  if (gpu == nullptr) {
    WARN("SKIPPED: no GPU (the session could not open one)");
    return;
  }
  INFO("GPU: " << gpu->gpu_device()->description());
  std::unique_ptr<Session> cpu = CpuSession();
  const std::vector<Case>& cases = Cases();
  int failed = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    INFO("case " << i << ": " << c.label);
    const std::vector<std::pair<std::string, Tensor>> feeds = Feeds(i);
    std::vector<Tensor> want, got;
    absl::Status cpu_status = cpu->Run(feeds, {CaseFetch(i)}, {}, &want);
    INFO("CPU: " << cpu_status.ToString());
    REQUIRE(cpu_status.ok());
    log.Clear();
    absl::Status gpu_status = gpu->Run(feeds, {CaseFetch(i)}, {}, &got);
    INFO("GPU: " << gpu_status.ToString());
    CHECK(gpu_status.ok());
    if (!gpu_status.ok()) {
      ++failed;
      continue;
    }
    CHECK(log.Has(absl::StrCat(CaseNode(i), ": (", c.op, "): ", kGpu)));
    REQUIRE(got.size() == 1);
    const std::string mismatch = Mismatch(got[0], want[0], c.tol);
    INFO(mismatch);
    CHECK(mismatch.empty());
    if (!mismatch.empty()) ++failed;
  }
  INFO(failed << " of " << cases.size() << " cases failed");
  CHECK(failed == 0);
}

}  // namespace
}  // namespace weir
