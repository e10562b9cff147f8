// gpu_session_test.cc - Sessions on /device:GPU:0 (SessionOptions::num_gpu_devices, placement
// preferring the GPU, _Send/_Recv copies at the host boundary), checked against CPU-only
// sessions (num_gpu_devices = 0) running the same graph: an MLP at batch 1 and 256 with its
// GEMMs on the GPU and repeatable results, a chain of 2000 dependent Adds, out of memory under
// GpuOptions::memory_limit_bytes (ResourceExhausted naming the node, and the session still
// works), targets-only runs and concurrent runs, and int32/int64 feeds through a mix of
// reshaping, transposing, concatenating and reducing ops.
//
// Every case needs a GPU: without one it says "SKIPPED: no GPU" (tools/run_tests.sh counts it)
// and passes. Fetches come back in the process's pinned pool and outlive the session; pinned
// and pageable feeds give the same results, also through a CPU op between two GPU ops. Chains
// of elementwise ops fused on the GPU give the bits of the unfused ops.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "builder/ops.h"
#include "builder/state_ops.h"
#include "runtime/gpu/gpu_device.h"
#include "runtime/session.h"
#include "tests/runtime/gpu/gpu_session_util.h"
#include "runtime/tensor.h"

namespace weir {
namespace {

using testing::PlacementLog;

using Catch::Matchers::Contains;

constexpr char kGpu[] = "/device:GPU:0";
constexpr size_t kMiB = size_t{1} << 20;

GraphDef ToGraphDef(const Scope& s) {
  INFO(s.status().ToString());
  REQUIRE(s.ok());
  GraphDef def;
  REQUIRE(s.ToGraphDef(&def).ok());
  return def;
}

std::unique_ptr<Session> MakeSession(const GraphDef& def, const SessionOptions& options) {
  absl::StatusOr<std::unique_ptr<Session>> session = Session::Create(def, options);
  INFO(session.status().ToString());
  REQUIRE(session.ok());
  return *std::move(session);
}

// A session that prefers the GPU, with `log` attached to `options`; null, having said
// "SKIPPED", when it could not open a GPU (the test case then returns).
std::unique_ptr<Session> GpuSession(const GraphDef& def, PlacementLog* log,
                                    SessionOptions options = {}) {
  log->Attach(&options);
  std::unique_ptr<Session> session = MakeSession(def, options);
  if (session->gpu_device() == nullptr) {
    WARN("SKIPPED: no GPU (the session could not open one)");
    return nullptr;
  }
  return session;
}

std::unique_ptr<Session> CpuSession(const GraphDef& def) {
  SessionOptions options;
  options.num_gpu_devices = 0;
  std::unique_ptr<Session> session = MakeSession(def, options);
  REQUIRE(session->gpu_device() == nullptr);
  return session;
}

std::vector<float> RandomFloats(size_t n, std::mt19937& rng, float lo, float hi) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

Tensor RandomTensor(const TensorShape& shape, std::mt19937& rng, float lo = -1, float hi = 1) {
  return Tensor::FromVector<float>(
      RandomFloats(static_cast<size_t>(shape.num_elements()), rng, lo, hi), shape);
}

// Largest |got - want| / max(|want|, floor) over two float tensors of one shape (+inf when the
// dtypes or shapes differ, or a value is not finite).
double MaxRelError(const Tensor& got, const Tensor& want, double floor) {
  if (got.dtype() != DT_FLOAT || want.dtype() != DT_FLOAT || got.shape() != want.shape()) {
    return std::numeric_limits<double>::infinity();
  }
  double worst = 0;
  for (int64_t i = 0; i < want.num_elements(); ++i) {
    const double g = got.data<float>()[i], w = want.data<float>()[i];
    if (!std::isfinite(g) || !std::isfinite(w)) return std::numeric_limits<double>::infinity();
    worst = std::max(worst, std::abs(g - w) / std::max(std::abs(w), floor));
  }
  return worst;
}

template <typename T>
bool SameValues(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  return std::equal(a.data<T>(), a.data<T>() + a.num_elements(), b.data<T>());
}

// ---- (a) An MLP ------------------------------------------------------------------------------

// x [?, 784] -> MatMul + BiasAdd + Relu (512) -> MatMul + BiasAdd + Relu (512) -> MatMul +
// BiasAdd (10) -> Softmax "probs", with seeded Glorot-uniform Const weights.
GraphDef MlpGraph() {
  Scope s = Scope::NewRootScope();
  std::mt19937 rng(20240601);
  Output h = ops::Placeholder(s.WithOpName("x"), DT_FLOAT, {-1, 784});
  const int64_t sizes[] = {784, 512, 512, 10};
  for (int layer = 0; layer < 3; ++layer) {
    const int64_t in = sizes[layer], out = sizes[layer + 1];
    const float limit = std::sqrt(6.f / static_cast<float>(in + out));
    Output w = ops::Const(s.WithOpName(absl::StrCat("w", layer)),
                          RandomFloats(static_cast<size_t>(in * out), rng, -limit, limit),
                          TensorShape({in, out}));
    Output b =
        ops::Const(s.WithOpName(absl::StrCat("b", layer)),
                   RandomFloats(static_cast<size_t>(out), rng, -0.1f, 0.1f), TensorShape({out}));
    h = ops::MatMul(s.WithOpName(absl::StrCat("matmul", layer)), h, w);
    h = ops::BiasAdd(s.WithOpName(absl::StrCat("bias_add", layer)), h, b);
    if (layer < 2) h = ops::Relu(s.WithOpName(absl::StrCat("relu", layer)), h);
  }
  ops::Softmax(s.WithOpName("probs"), h);
  return ToGraphDef(s);
}

TEST_CASE("GPU session: an MLP matches the CPU at batch 1 and 256, GEMMs on the GPU") {
  SKIP_WITHOUT_GPU();
  const GraphDef def = MlpGraph();
  std::unique_ptr<Session> cpu = CpuSession(def);
  // With CUDA-graph replay (the default: repeated shapes replay a captured graph) and without.
  for (bool capture : {true, false}) {
    INFO("gpu_graph_capture " << capture);
    PlacementLog log;
    SessionOptions options;
    options.gpu_graph_capture = capture;
    std::unique_ptr<Session> gpu = GpuSession(def, &log, options);
    if (gpu == nullptr) return;
    INFO("GPU: " << gpu->gpu_device()->description());
    CHECK_FALSE(gpu->gpu_device()->options().allow_tf32);  // TF32 is off unless asked for

    std::mt19937 rng(7);
    for (int64_t batch : {1, 256}) {
      INFO("batch " << batch);
      const Tensor x = RandomTensor(TensorShape({batch, 784}), rng, 0, 1);
      std::vector<Tensor> want, got;
      REQUIRE(cpu->Run({{"x", x}}, {"probs"}, {}, &want).ok());
      absl::Status s = gpu->Run({{"x", x}}, {"probs"}, {}, &got);
      INFO(s.ToString());
      REQUIRE(s.ok());
      REQUIRE(got.size() == 1);
      CHECK(got[0].shape() == TensorShape({batch, 10}));
      CHECK(MaxRelError(got[0], want[0], 1e-6) <= 1e-4);
      // Rows are distributions.
      for (int64_t r = 0; r < batch; ++r) {
        double sum = 0;
        for (int c = 0; c < 10; ++c) sum += got[0].data<float>()[r * 10 + c];
        CHECK(std::abs(sum - 1) < 1e-5);
      }
      // The same input gives the same result on every run (replayed ones included).
      for (int run = 0; run < 3; ++run) {
        std::vector<Tensor> again;
        absl::Status st = gpu->Run({{"x", x}}, {"probs"}, {}, &again);
        INFO("run " << run << ": " << st.ToString());
        REQUIRE(st.ok());
        CHECK(SameValues<float>(again[0], got[0]));
      }
    }

    // The three GEMMs (MatMul, or _FusedMatMul after fusion) ran on the GPU.
    const std::vector<std::string> gemms = log.LinesWithOp("MatMul");
    std::set<std::string> names;
    for (const std::string& line : gemms) {
      INFO(line);
      CHECK(absl::EndsWith(line, absl::StrCat(": ", kGpu)));
      names.insert(line.substr(0, line.find(": (")));
    }
    CHECK(names.size() == 3);
    CHECK(log.DeviceOf("probs") == kGpu);
  }
}

// ---- (b) A long chain ------------------------------------------------------------------------

TEST_CASE("GPU session: a chain of 2000 dependent Adds matches the CPU") {
  SKIP_WITHOUT_GPU();
  constexpr int kChain = 2000;
  Scope s = Scope::NewRootScope();
  Output x = ops::Placeholder(s.WithOpName("x"), DT_FLOAT, {16});
  std::vector<float> step(16);
  for (int i = 0; i < 16; ++i) step[i] = 0.001f * static_cast<float>(i + 1);
  Output c = ops::Const(s.WithOpName("step"), step, TensorShape({16}));
  Output a = x;
  for (int i = 0; i < kChain; ++i) {
    // Alternately the fed vector and a constant: nothing to fold, nothing to merge.
    a = ops::Add(s.WithOpName(absl::StrCat("add", i)), a, i % 2 == 0 ? x : c);
  }
  const GraphDef def = ToGraphDef(s);
  const std::string last = absl::StrCat("add", kChain - 1);

  PlacementLog log;
  std::unique_ptr<Session> gpu = GpuSession(def, &log);
  if (gpu == nullptr) return;
  std::unique_ptr<Session> cpu = CpuSession(def);
  std::mt19937 rng(11);
  for (int step_run = 0; step_run < 2; ++step_run) {
    const Tensor in = RandomTensor(TensorShape({16}), rng);
    std::vector<Tensor> want, got;
    REQUIRE(cpu->Run({{"x", in}}, {last}, {}, &want).ok());
    absl::Status st = gpu->Run({{"x", in}}, {last}, {}, &got);
    INFO(st.ToString());
    REQUIRE(st.ok());
    CHECK(MaxRelError(got[0], want[0], 1.0) <= 1e-5);
    // And what it should be: x * 1001 + step * 1000, to float rounding.
    for (int i = 0; i < 16; ++i) {
      const double expected = 1001.0 * in.data<float>()[i] + 1000.0 * step[i];
      CHECK(std::abs(got[0].data<float>()[i] - expected) <=
            1e-3 * std::max(1.0, std::abs(expected)));
    }
  }
  CHECK(log.DeviceOf(last) == kGpu);
  // The GPU's elementwise fusion made the whole chain one node, named as its last Add.
  CHECK(log.LinesWithOp("_WeirElementwiseChain").size() == 1);
  CHECK(log.LinesWithOp("Add").size() >= static_cast<size_t>(kChain));
  for (const std::string& line : log.LinesWithOp("Add")) {
    if (!absl::EndsWith(line, kGpu)) FAIL_CHECK("not on the GPU: " << line);
  }
}

// ---- (c) Out of memory -----------------------------------------------------------------------

TEST_CASE("GPU session: out of memory names the node, and the session keeps working") {
  SKIP_WITHOUT_GPU();
  constexpr int64_t kN = 16384;  // [kN, kN] floats: 1 GiB
  Scope s = Scope::NewRootScope();
  Output col = ops::Placeholder(s.WithOpName("col"), DT_FLOAT, {kN, 1});
  Output row = ops::Placeholder(s.WithOpName("row"), DT_FLOAT, {1, kN});
  ops::MatMul(s.WithOpName("outer_product"), col, row);
  Output a = ops::Placeholder(s.WithOpName("a"), DT_FLOAT, {2, 3});
  Output b = ops::Placeholder(s.WithOpName("b"), DT_FLOAT, {3, 2});
  ops::MatMul(s.WithOpName("small"), a, b);
  const GraphDef def = ToGraphDef(s);

  PlacementLog log;
  SessionOptions options;
  options.gpu_options.memory_limit_bytes = 256 * kMiB;
  std::unique_ptr<Session> gpu = GpuSession(def, &log, options);
  if (gpu == nullptr) return;
  CHECK(gpu->gpu_device()->memory_stats().bytes_limit <= static_cast<int64_t>(256 * kMiB));

  std::mt19937 rng(5);
  const Tensor col_value = RandomTensor(TensorShape({kN, 1}), rng);
  const Tensor row_value = RandomTensor(TensorShape({1, kN}), rng);
  const Tensor a_value = Tensor::FromVector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor b_value = Tensor::FromVector<float>({1, 2, 3, 4, 5, 6}, {3, 2});
  for (int attempt = 0; attempt < 2; ++attempt) {
    INFO("attempt " << attempt);
    std::vector<Tensor> out;
    absl::Status st =
        gpu->Run({{"col", col_value}, {"row", row_value}}, {"outer_product"}, {}, &out);
    INFO(st.ToString());
    CHECK(st.code() == absl::StatusCode::kResourceExhausted);
    CHECK_THAT(std::string(st.message()), Contains("outer_product"));
    CHECK(log.DeviceOf("outer_product") == kGpu);

    out.clear();
    absl::Status small = gpu->Run({{"a", a_value}, {"b", b_value}}, {"small"}, {}, &out);
    INFO(small.ToString());
    REQUIRE(small.ok());
    REQUIRE(out.size() == 1);
    CHECK(out[0].shape() == TensorShape({2, 2}));
    CHECK(std::vector<float>(out[0].data<float>(), out[0].data<float>() + 4) ==
          std::vector<float>{22, 28, 49, 64});
    CHECK(log.DeviceOf("small") == kGpu);
  }
  // Each attempt was refused by the allocator, not by anything else.
  CHECK(gpu->gpu_device()->memory_stats().num_failed_allocs >= 2);
}

// ---- (d) Targets-only runs and concurrent runs -----------------------------------------------

TEST_CASE("GPU session: targets-only runs take effect") {
  SKIP_WITHOUT_GPU();
  Scope s = Scope::NewRootScope();
  std::mt19937 rng(3);
  Output x = ops::Placeholder(s.WithOpName("x"), DT_FLOAT, {4, 64});
  Output w =
      ops::Const(s.WithOpName("w"), RandomFloats(64 * 32, rng, -0.2f, 0.2f), TensorShape({64, 32}));
  Output y = ops::Tanh(s.WithOpName("y"), ops::MatMul(s.WithOpName("xw"), x, w));
  Output v = ops::VarHandleOp(s.WithOpName("v"), DT_FLOAT, {4, 32});
  ops::AssignVariableOp(s.WithOpName("assign"), v, y);
  ops::AssignAddVariableOp(s.WithOpName("assign_add"), v, y);
  ops::ReadVariableOp(s.WithOpName("read"), v, DT_FLOAT);
  const GraphDef def = ToGraphDef(s);

  PlacementLog log;
  std::unique_ptr<Session> gpu = GpuSession(def, &log);
  if (gpu == nullptr) return;
  std::unique_ptr<Session> cpu = CpuSession(def);
  const Tensor in = RandomTensor(TensorShape({4, 64}), rng);
  std::vector<Tensor> want;
  REQUIRE(cpu->Run({{"x", in}}, {"y"}, {}, &want).ok());

  std::vector<Tensor> out = {Tensor::Scalar<float>(0)};
  // A target on the GPU alone: runs, returns nothing.
  absl::Status st = gpu->Run({{"x", in}}, {}, {"y"}, &out);
  INFO(st.ToString());
  REQUIRE(st.ok());
  CHECK(out.empty());
  CHECK(log.DeviceOf("xw") == kGpu);

  // The assignment's value comes from the GPU; reading it back needs no feed.
  REQUIRE(gpu->Run({{"x", in}}, {}, {"assign"}, &out).ok());
  CHECK(out.empty());
  REQUIRE(gpu->Run({}, {"read"}, {}, &out).ok());
  REQUIRE(out.size() == 1);
  CHECK(MaxRelError(out[0], want[0], 1e-2) <= 1e-5);
  REQUIRE(gpu->Run({{"x", in}}, {}, {"assign_add"}, &out).ok());
  REQUIRE(gpu->Run({}, {"read"}, {}, &out).ok());
  Tensor twice = want[0].DeepCopy();
  for (int64_t i = 0; i < twice.num_elements(); ++i) twice.data<float>()[i] *= 2;
  CHECK(MaxRelError(out[0], twice, 1e-2) <= 1e-5);
  CHECK(log.DeviceOf("y") == kGpu);
}

TEST_CASE("GPU session: concurrent runs from 4 threads get their own results") {
  SKIP_WITHOUT_GPU();
  const GraphDef def = MlpGraph();
  PlacementLog log;
  std::unique_ptr<Session> gpu = GpuSession(def, &log);
  if (gpu == nullptr) return;
  std::unique_ptr<Session> cpu = CpuSession(def);
  constexpr int kThreads = 4, kInputsPerThread = 3, kRounds = 20;
  // Distinct inputs per thread (batch sizes differ too) and their CPU results.
  std::vector<std::vector<Tensor>> inputs(kThreads), expected(kThreads);
  std::mt19937 rng(99);
  for (int t = 0; t < kThreads; ++t) {
    for (int k = 0; k < kInputsPerThread; ++k) {
      inputs[t].push_back(RandomTensor(TensorShape({1 + 7 * t + k, 784}), rng, 0, 1));
      std::vector<Tensor> want;
      REQUIRE(cpu->Run({{"x", inputs[t][k]}}, {"probs"}, {}, &want).ok());
      expected[t].push_back(want[0]);
    }
  }
  std::atomic<int> errors{0}, wrong{0}, runs{0};
  absl::Mutex first_error_mu;
  std::string first_error;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<Tensor> out;
      for (int round = 0; round < kRounds; ++round) {
        const int k = round % kInputsPerThread;
        absl::Status st = gpu->Run({{"x", inputs[t][k]}}, {"probs"}, {}, &out);
        runs.fetch_add(1);
        if (!st.ok()) {
          errors.fetch_add(1);
          absl::MutexLock lock(&first_error_mu);
          if (first_error.empty()) first_error = st.ToString();
          continue;
        }
        if (out.size() != 1 || MaxRelError(out[0], expected[t][k], 1e-6) > 1e-4) {
          wrong.fetch_add(1);
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  INFO(first_error);
  CHECK(runs.load() == kThreads * kRounds);
  CHECK(errors.load() == 0);
  CHECK(wrong.load() == 0);
  CHECK(log.DeviceOf("probs") == kGpu);
}

// ---- (e) Integer feeds and data movement -----------------------------------------------------

TEST_CASE("GPU session: int32/int64 feeds and reshape/transpose/concat/reductions match the CPU") {
  SKIP_WITHOUT_GPU();
  Scope s = Scope::NewRootScope();
  Output ids = ops::Placeholder(s.WithOpName("ids"), DT_INT32, {8, 6});
  Output big = ops::Placeholder(s.WithOpName("big"), DT_INT64, {8, 6});
  Output f = ops::Placeholder(s.WithOpName("f"), DT_FLOAT, {8, 6});
  // int64 arithmetic past the int32 range.
  Output wide =
      ops::Add(s.WithOpName("wide"), big, ops::Cast(s.WithOpName("ids64"), ids, DT_INT64));
  Output wide_max = ops::Max(s.WithOpName("wide_max"), wide, ops::Const(s.WithOpName("ax1"), 1));
  Output id_sum = ops::Sum(s.WithOpName("id_sum"), ids, ops::Const(s.WithOpName("ax0"), 0));
  // Floats: scaled by the ids, reshaped, transposed, joined, reduced.
  Output scaled =
      ops::Mul(s.WithOpName("scaled"), ops::Cast(s.WithOpName("idsf"), ids, DT_FLOAT), f);
  Output r1 = ops::Reshape(s.WithOpName("r1"), scaled, std::vector<int64_t>{4, 12});
  Output t1 = ops::Transpose(s.WithOpName("t1"), r1, std::vector<int32_t>{1, 0});
  Output r2 = ops::Reshape(s.WithOpName("r2"), f, std::vector<int64_t>{4, 12});
  Output t2 = ops::Transpose(s.WithOpName("t2"), r2, std::vector<int32_t>{1, 0});
  Output joined = ops::Concat(s.WithOpName("joined"), {t1, t2}, 1);  // [12, 8]
  ops::Sum(s.WithOpName("row_sum"), joined, ops::Const(s.WithOpName("ax1b"), 1));
  ops::Max(s.WithOpName("col_max"), joined, ops::Const(s.WithOpName("ax0b"), 0), true);
  ops::ArgMax(s.WithOpName("row_argmax"), joined, ops::Const(s.WithOpName("ax1c"), 1));
  const GraphDef def = ToGraphDef(s);

  PlacementLog log;
  std::unique_ptr<Session> gpu = GpuSession(def, &log);
  if (gpu == nullptr) return;
  std::unique_ptr<Session> cpu = CpuSession(def);

  std::mt19937 rng(17);
  std::vector<int32_t> id_values(48);
  std::vector<int64_t> big_values(48);
  std::uniform_int_distribution<int32_t> id_dist(-1000, 1000);
  std::uniform_int_distribution<int64_t> big_dist(-(int64_t{1} << 40), int64_t{1} << 40);
  for (int32_t& v : id_values) v = id_dist(rng);
  for (int64_t& v : big_values) v = big_dist(rng);
  const std::vector<std::pair<std::string, Tensor>> feeds = {
      {"ids", Tensor::FromVector<int32_t>(id_values, {8, 6})},
      {"big", Tensor::FromVector<int64_t>(big_values, {8, 6})},
      {"f", RandomTensor(TensorShape({8, 6}), rng)}};
  const std::vector<std::string> fetches = {"wide",    "wide_max",   "id_sum", "row_sum",
                                            "col_max", "row_argmax", "joined"};
  std::vector<Tensor> want, got;
  REQUIRE(cpu->Run(feeds, fetches, {}, &want).ok());
  absl::Status st = gpu->Run(feeds, fetches, {}, &got);
  INFO(st.ToString());
  REQUIRE(st.ok());
  REQUIRE(got.size() == fetches.size());
  for (size_t k = 0; k < fetches.size(); ++k) {
    INFO("fetch " << fetches[k] << ": gpu " << got[k].DebugString(16) << ", cpu "
                  << want[k].DebugString(16));
    REQUIRE(got[k].dtype() == want[k].dtype());
    switch (want[k].dtype()) {
      case DT_INT32:
        CHECK(SameValues<int32_t>(got[k], want[k]));
        break;
      case DT_INT64:
        CHECK(SameValues<int64_t>(got[k], want[k]));
        break;
      default:
        // Products of exactly representable values move and compare exactly; only the sum
        // of 8 terms of up to 1000 depends on the order of additions.
        if (fetches[k] == "row_sum") {
          CHECK(MaxRelError(got[k], want[k], 10.0) <= 1e-4);
        } else {
          CHECK(SameValues<float>(got[k], want[k]));
        }
        break;
    }
    CHECK(log.DeviceOf(fetches[k]) == kGpu);
  }
  // The int64 values really are past the int32 range.
  CHECK(std::any_of(big_values.begin(), big_values.end(),
                    [](int64_t v) { return v > (int64_t{1} << 32) || v < -(int64_t{1} << 32); }));
}


// ---- (g) Pinned feeds and fetches -------------------------------------------------------------

// x -> Mul(x, x) on the GPU -> Identity forced onto the CPU -> Add(., x) on the GPU. Without
// CUDA-graph capture every copy goes through the executor's _Send/_Recv: fetches land in the
// process's pinned pool, pageable feeds are staged through it, and the CPU Identity hands the
// pinned tensor it received straight back to the GPU (an asynchronous copy whose source must be
// kept until the step's final synchronization).
TEST_CASE("GPU session: fetches are pinned and outlive the session; pinned and pageable feeds") {
  SKIP_WITHOUT_GPU();
  Scope s = Scope::NewRootScope();
  Output x = ops::Placeholder(s.WithOpName("x"), DT_FLOAT, {-1});
  Output sq = ops::Mul(s.WithOpName("sq"), x, x);
  Output hop = ops::Identity(s.WithOpName("hop").WithDevice("/device:CPU:0"), sq);
  ops::Add(s.WithOpName("back"), hop, x);
  const GraphDef def = ToGraphDef(s);

  PlacementLog log;
  SessionOptions options;
  options.gpu_graph_capture = false;
  std::unique_ptr<Session> gpu = GpuSession(def, &log, options);
  if (gpu == nullptr) return;
  REQUIRE(GpuHostAllocator() != nullptr);
  CHECK(gpu->gpu_device()->host_allocator() == GpuHostAllocator());

  std::mt19937 rng(23);
  std::vector<Tensor> kept;  // fetches kept past the session
  std::vector<std::vector<float>> kept_want;
  // 3 floats (compute-stream copies) and 2 MiB + 4 bytes (copy streams), pageable and pinned.
  for (int64_t n : {int64_t{3}, int64_t{(2 << 20) / 4 + 1}}) {
    for (int step = 0; step < 6; ++step) {
      INFO("n " << n << ", step " << step);
      const std::vector<float> values = RandomFloats(static_cast<size_t>(n), rng, -4, 4);
      const bool pinned_feed = step % 2 == 1;
      Tensor feed = pinned_feed ? Tensor(GpuHostAllocator(), DT_FLOAT, TensorShape({n}))
                                : Tensor(DT_FLOAT, TensorShape({n}));
      REQUIRE(feed.raw_data() != nullptr);
      std::copy(values.begin(), values.end(), feed.data<float>());
      CHECK(IsGpuHostTensor(feed) == pinned_feed);
      std::vector<Tensor> out;
      absl::Status st = gpu->Run({{"x", feed}}, {"back", "sq"}, {}, &out);
      INFO(st.ToString());
      REQUIRE(st.ok());
      REQUIRE(out.size() == 2);
      std::vector<float> want_back(values.size()), want_sq(values.size());
      for (size_t i = 0; i < values.size(); ++i) {
        want_sq[i] = values[i] * values[i];
        want_back[i] = want_sq[i] + values[i];
      }
      CHECK(std::equal(want_sq.begin(), want_sq.end(), out[1].data<float>()));
      CHECK(std::equal(want_back.begin(), want_back.end(), out[0].data<float>()));
      CHECK(IsGpuHostTensor(out[0]));
      CHECK(IsGpuHostTensor(out[1]));
      kept.push_back(out[0]);
      kept_want.push_back(want_back);
    }
  }
  CHECK(log.DeviceOf("sq") == kGpu);
  CHECK(log.DeviceOf("back") == kGpu);
  CHECK(absl::StrContains(log.DeviceOf("hop"), "CPU"));

  // The session and its GPU device go; the fetched tensors stay readable and writable.
  gpu.reset();
  for (size_t k = 0; k < kept.size(); ++k) {
    INFO("kept fetch " << k);
    CHECK(std::equal(kept_want[k].begin(), kept_want[k].end(), kept[k].data<float>()));
    kept[k].data<float>()[0] = 1.0f;
    CHECK(kept[k].data<float>()[0] == 1.0f);
  }
}


// ---- (h) Fused elementwise chains -------------------------------------------------------------

// x * s + y -> (fetched "b", which ends the first chain) -> Relu -> y - . -> Square -> Tanh ->
// Maximum(., s) -> . * . : two chains on the GPU, with a scalar operand, the accumulator on the
// right, the accumulator as its own operand, and a feed used by several steps.
TEST_CASE("GPU session: fused elementwise chains give the unfused bits and match the CPU") {
  SKIP_WITHOUT_GPU();
  Scope s = Scope::NewRootScope();
  Output x = ops::Placeholder(s.WithOpName("x"), DT_FLOAT, {3, 50});
  Output y = ops::Placeholder(s.WithOpName("y"), DT_FLOAT, {3, 50});
  Output half = ops::Const(s.WithOpName("half"), 0.5f);
  Output a = ops::Mul(s.WithOpName("a"), x, half);
  Output b = ops::Add(s.WithOpName("b"), a, y);
  Output c = ops::Relu(s.WithOpName("c"), b);
  Output d = ops::Sub(s.WithOpName("d"), y, c);
  Output e = ops::Square(s.WithOpName("e"), d);
  Output f = ops::Tanh(s.WithOpName("f"), e);
  Output g = ops::Maximum(s.WithOpName("g"), f, half);
  ops::Mul(s.WithOpName("h"), g, g);
  const GraphDef def = ToGraphDef(s);

  PlacementLog log;
  std::unique_ptr<Session> fused = GpuSession(def, &log);
  if (fused == nullptr) return;
  SessionOptions plain_options;
  plain_options.gpu_fuse_elementwise = false;
  std::unique_ptr<Session> plain = MakeSession(def, plain_options);
  std::unique_ptr<Session> cpu = CpuSession(def);
  std::mt19937 rng(29);
  for (int step = 0; step < 4; ++step) {  // warm-up, capture, replays
    INFO("step " << step);
    const std::vector<std::pair<std::string, Tensor>> feeds = {
        {"x", RandomTensor(TensorShape({3, 50}), rng, -2, 2)},
        {"y", RandomTensor(TensorShape({3, 50}), rng, -2, 2)}};
    std::vector<Tensor> got, unfused, want;
    absl::Status st = fused->Run(feeds, {"h", "b"}, {}, &got);
    INFO(st.ToString());
    REQUIRE(st.ok());
    REQUIRE(plain->Run(feeds, {"h", "b"}, {}, &unfused).ok());
    REQUIRE(cpu->Run(feeds, {"h", "b"}, {}, &want).ok());
    for (int k = 0; k < 2; ++k) {
      CHECK(SameValues<float>(got[k], unfused[k]));
      CHECK(MaxRelError(got[k], want[k], 1e-3) <= 1e-5);
    }
  }
  std::set<std::string> chains;
  for (const std::string& line : log.LinesWithOp("_WeirElementwiseChain")) {
    chains.insert(line.substr(0, line.find(':')));
    CHECK(absl::EndsWith(line, kGpu));
  }
  CHECK(chains == std::set<std::string>{"b", "h"});
}

}  // namespace
}  // namespace weir
