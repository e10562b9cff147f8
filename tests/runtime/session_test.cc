// session_test.cc - Sessions: feeds, fetches, targets, plan caching, errors, concurrency.
#include "runtime/session.h"

#include <atomic>
#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "absl/synchronization/mutex.h"
#include "builder/ops.h"
#include "graph/ops/shape_fns.h"
#include "kernels/registry.h"

namespace weir {
namespace {

using Catch::Matchers::Contains;

std::unique_ptr<Session> MakeSession(const Scope& s, SessionOptions options = {}) {
  GraphDef def;
  REQUIRE(s.ToGraphDef(&def).ok());
  absl::StatusOr<std::unique_ptr<Session>> session = Session::Create(def, options);
  REQUIRE(session.ok());
  return *std::move(session);
}

TEST_CASE("feeds flow to fetches through Identity") {
  Scope s = Scope::NewRootScope();
  auto x = ops::Placeholder(s.WithOpName("x"), DT_FLOAT, {-1, 2});
  auto y = ops::Identity(s.WithOpName("y"), x);
  auto session = MakeSession(s);
  std::vector<Tensor> out;
  Tensor in = Tensor::FromVector<float>({1, 2, 3, 4}, {2, 2});
  REQUIRE(session->Run({{"x", in}}, {"y:0", "y"}, {}, &out).ok());
  REQUIRE(out.size() == 2);
  CHECK(out[0].shape() == TensorShape({2, 2}));
  CHECK(out[0].data<float>()[3] == 4.f);
  CHECK(out[1].data<float>()[0] == 1.f);
  // A fed tensor can be fetched directly.
  REQUIRE(session->Run({{"x:0", in}}, {"x"}, {}, &out).ok());
  CHECK(out[0].data<float>()[2] == 3.f);
}

TEST_CASE("plans are cached per signature regardless of order") {
  Scope s = Scope::NewRootScope();
  auto x = ops::Placeholder(s.WithOpName("x"), DT_FLOAT);
  auto a = ops::Identity(s.WithOpName("a"), x);
  auto b = ops::Identity(s.WithOpName("b"), x);
  auto session = MakeSession(s);
  std::vector<Tensor> out;
  Tensor in = Tensor::Scalar<float>(5.f);
  REQUIRE(session->Run({{"x", in}}, {"a", "b"}, {}, &out).ok());
  REQUIRE(session->Run({{"x", in}}, {"b", "a"}, {}, &out).ok());
  CHECK(session->num_cached_plans() == 1);
  REQUIRE(session->Run({{"x", in}}, {"a"}, {}, &out).ok());
  CHECK(session->num_cached_plans() == 2);
}

TEST_CASE("run errors name what is wrong") {
  Scope s = Scope::NewRootScope();
  auto x = ops::Placeholder(s.WithOpName("x"), DT_FLOAT, {-1, 784});
  auto y = ops::Identity(s.WithOpName("y"), x);
  auto c = ops::Const(s.WithOpName("c"), 1.f);
  auto session = MakeSession(s);
  std::vector<Tensor> out;

  SECTION("missing feed") {
    absl::Status st = session->Run({}, {"y"}, {}, &out);
    REQUIRE_FALSE(st.ok());
    CHECK_THAT(std::string(st.message()), Contains("placeholder 'x'") && Contains("[?,784]"));
  }
  SECTION("an unfed placeholder that no fetch needs is fine") {
    REQUIRE(session->Run({}, {"c"}, {}, &out).ok());
    CHECK(out[0].data<float>()[0] == 1.f);
  }
  SECTION("feed with wrong dtype") {
    absl::Status st = session->Run({{"x", Tensor::FromVector<int32_t>({1}, {1, 1})}}, {"y"}, {}, &out);
    REQUIRE_FALSE(st.ok());
    CHECK_THAT(std::string(st.message()), Contains("feed 'x'") && Contains("dtype int32") &&
                                              Contains("expected float"));
  }
  SECTION("feed with wrong shape") {
    absl::Status st = session->Run({{"x", Tensor(DT_FLOAT, {3, 10})}}, {"y"}, {}, &out);
    REQUIRE_FALSE(st.ok());
    CHECK_THAT(std::string(st.message()), Contains("[3,10]") && Contains("expected [?,784]"));
  }
  SECTION("fetch of a missing node") {
    absl::Status st = session->Run({}, {"nope:0"}, {}, &out);
    REQUIRE_FALSE(st.ok());
    CHECK_THAT(std::string(st.message()), Contains("fetch 'nope:0'") && Contains("no node named 'nope'"));
  }
  SECTION("fetch of a missing output index") {
    absl::Status st = session->Run({}, {"c:3"}, {}, &out);
    REQUIRE_FALSE(st.ok());
    CHECK_THAT(std::string(st.message()), Contains("output 3 does not exist"));
  }
  SECTION("feed of a missing node") {
    absl::Status st = session->Run({{"zz", Tensor::Scalar<float>(1)}}, {"c"}, {}, &out);
    REQUIRE_FALSE(st.ok());
    CHECK_THAT(std::string(st.message()), Contains("feed 'zz:0'"));
  }
  SECTION("the session stays usable after an error") {
    REQUIRE_FALSE(session->Run({}, {"y"}, {}, &out).ok());
    REQUIRE(session->Run({{"x", Tensor(DT_FLOAT, {1, 784})}}, {"y"}, {}, &out).ok());
  }
}

// A test-only op whose kernel waits until `count` kernels are inside it at once: it can only
// succeed when the executor runs independent branches in parallel.
struct Rendezvous {
  absl::Mutex mu;
  int arrived = 0;
};
Rendezvous* rendezvous = new Rendezvous;

class RendezvousKernel : public OpKernel {
 public:
  explicit RendezvousKernel(const KernelConstruction& c) : OpKernel(c) {}
  absl::Status Compute(KernelContext* ctx) override {
    absl::MutexLock lock(&rendezvous->mu);
    ++rendezvous->arrived;
    bool met = rendezvous->mu.AwaitWithTimeout(
        absl::Condition(+[](int* n) { return *n >= 2; }, &rendezvous->arrived), absl::Seconds(10));
    if (!met) return absl::DeadlineExceededError("the other branch never ran concurrently");
    ctx->set_output(0, ctx->input(0));
    return absl::OkStatus();
  }
};

void RegisterRendezvousOnce() {
  static bool done = [] {
    OpRegistry::Global().Register(OpSpec("TestRendezvous")
                                      .Input("x: float")
                                      .Output("y: float")
                                      .SetShapeFn(UnchangedShape));
    DefaultKernelRegistry().Register(
        {"TestRendezvous", kDeviceCpu, "", {}, MakeFactory<RendezvousKernel>()});
    return true;
  }();
  (void)done;
}

TEST_CASE("independent branches execute at the same time") {
  RegisterRendezvousOnce();
  Scope s = Scope::NewRootScope();
  auto x = ops::Placeholder(s.WithOpName("x"), DT_FLOAT);
  Output a = NodeBuilder(s.WithOpName("a"), "TestRendezvous").Input(x).Finalize();
  Output b = NodeBuilder(s.WithOpName("b"), "TestRendezvous").Input(x).Finalize();
  REQUIRE(s.ok());
  SessionOptions options;
  options.inter_op_threads = 2;
  auto session = MakeSession(s, options);
  std::vector<Tensor> out;
  absl::Status st = session->Run({{"x", Tensor::Scalar<float>(1)}}, {"a", "b"}, {}, &out);
  REQUIRE(st.ok());
  CHECK(rendezvous->arrived == 2);
}

TEST_CASE("one session runs from 8 threads at once") {
  Scope s = Scope::NewRootScope();
  auto x = ops::Placeholder(s.WithOpName("x"), DT_FLOAT, {1});
  Output chain = x;
  for (int i = 0; i < 20; ++i) chain = ops::Identity(s, chain);
  auto y = ops::Identity(s.WithOpName("y"), chain);
  auto session = MakeSession(s);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        float v = static_cast<float>(t * 1000 + i);
        std::vector<Tensor> out;
        absl::Status st = session->Run({{"x", Tensor::FromVector<float>({v}, {1})}}, {"y"}, {}, &out);
        if (!st.ok() || out.size() != 1 || out[0].data<float>()[0] != v) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures.load() == 0);
}

// A test-only op that doubles its input after ~30 us of work: expensive in the cost model, so
// of two ready at once one goes to the inter-op pool. Counts the runs on `watched_pool`'s workers.
std::atomic<ThreadPool*> watched_pool{nullptr};
std::atomic<int> runs_on_watched_pool{0};

class SlowDoubleKernel : public OpKernel {
 public:
  explicit SlowDoubleKernel(const KernelConstruction& c) : OpKernel(c) {}
  absl::Status Compute(KernelContext* ctx) override {
    ThreadPool* pool = watched_pool.load();
    if (pool != nullptr && pool->IsWorkerThread()) ++runs_on_watched_pool;
    const absl::Time until = absl::Now() + absl::Microseconds(30);
    while (absl::Now() < until) {
    }
    const Tensor& x = ctx->input(0);
    absl::StatusOr<Tensor*> y = ctx->allocate_output(0, DT_FLOAT, x.shape());
    if (!y.ok()) return y.status();
    for (int64_t i = 0; i < x.num_elements(); ++i) (*y)->data<float>()[i] = 2 * x.data<float>()[i];
    return absl::OkStatus();
  }
};

void RegisterSlowDoubleOnce() {
  static bool done = [] {
    OpRegistry::Global().Register(OpSpec("TestSlowDouble")
                                      .Input("x: float")
                                      .Output("y: float")
                                      .SetShapeFn(UnchangedShape));
    DefaultKernelRegistry().Register(
        {"TestSlowDouble", kDeviceCpu, "", {}, MakeFactory<SlowDoubleKernel>()});
    return true;
  }();
  (void)done;
}

TEST_CASE("two sessions share a caller-owned inter-op pool") {
  RegisterSlowDoubleOnce();
  // The pool outlives both sessions (its lifetime rule); steps of both interleave on it.
  ThreadPool pool("shared_inter_op", 3);
  watched_pool = &pool;
  auto make = [&](float scale) {
    Scope s = Scope::NewRootScope();
    auto x = ops::Placeholder(s.WithOpName("x"), DT_FLOAT, {4});
    // Two independent branches of expensive nodes per step, so steps hand nodes to the pool
    // (different inputs, or common-subexpression elimination would merge them).
    Output a = x, b = ops::Add(s, x, x);
    for (int i = 0; i < 3; ++i) {
      a = NodeBuilder(s, "TestSlowDouble").Input(a).Finalize();
      b = NodeBuilder(s, "TestSlowDouble").Input(b).Finalize();
    }
    ops::Mul(s.WithOpName("y"), ops::Add(s, a, b), ops::Const(s, scale));
    REQUIRE(s.ok());
    SessionOptions options;
    options.inter_op_pool = &pool;
    return MakeSession(s, options);
  };
  std::unique_ptr<Session> first = make(1.f);
  std::unique_ptr<Session> second = make(10.f);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      Session* session = t % 2 == 0 ? first.get() : second.get();
      const float scale = t % 2 == 0 ? 1.f : 10.f;
      std::vector<Tensor> out;
      for (int i = 0; i < 100; ++i) {
        const float v = static_cast<float>(t * 1000 + i);
        absl::Status st = session->Run(
            {{"x", Tensor::FromVector<float>({v, v + 1, v + 2, v + 3}, {4})}}, {"y"}, {}, &out);
        bool ok = st.ok() && out.size() == 1;
        // The branches compute 8x and 16x.
        for (int j = 0; ok && j < 4; ++j) ok = out[0].data<float>()[j] == 24 * (v + j) * scale;
        if (!ok) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures.load() == 0);
  CHECK(runs_on_watched_pool.load() > 0);
  // Closing one session leaves the pool working for the other.
  REQUIRE(first->Close().ok());
  first.reset();
  std::vector<Tensor> out;
  REQUIRE(second->Run({{"x", Tensor::FromVector<float>({1, 2, 3, 4}, {4})}}, {"y"}, {}, &out).ok());
  CHECK(out[0].data<float>()[3] == 960.f);
  second.reset();
  // The pool still runs tasks after both sessions are gone.
  std::atomic<bool> ran{false};
  pool.Schedule([&ran] { ran = true; });
  while (!ran.load()) pool.TryRunOne();
  CHECK(ran.load());
  watched_pool = nullptr;
}

TEST_CASE("steps of a graph with little parallelism stay on the calling thread") {
  RegisterSlowDoubleOnce();
  ThreadPool pool("watched_inter_op", 1);
  watched_pool = &pool;
  // `branches` chains of slow nodes from x, summed; the first chain has `long_chain` nodes, the
  // others one. One long chain beside one short node: parallelism 7/6, below
  // Executor::kMinParallelism, so once the cost model has measured the nodes nothing goes to
  // the pool. Two equal chains: parallelism 2, the pool keeps taking nodes.
  auto run = [&](int long_chain, int short_chains, int short_length) {
    Scope s = Scope::NewRootScope();
    auto x = ops::Placeholder(s.WithOpName("x"), DT_FLOAT, {2});
    Output sum = x;
    for (int c = 0; c <= short_chains; ++c) {
      Output h = ops::Add(s, x, ops::Const(s, static_cast<float>(c)));
      for (int i = 0; i < (c == 0 ? long_chain : short_length); ++i) {
        h = NodeBuilder(s, "TestSlowDouble").Input(h).Finalize();
      }
      sum = c == 0 ? h : ops::Add(s, sum, h);
    }
    ops::Identity(s.WithOpName("y"), sum);
    REQUIRE(s.ok());
    SessionOptions options;
    options.inter_op_pool = &pool;
    std::unique_ptr<Session> session = MakeSession(s, options);
    float expected = (1 + 0) * float(1 << long_chain);
    for (int c = 1; c <= short_chains; ++c) expected += (1 + c) * float(1 << short_length);
    std::vector<Tensor> out;
    // Warm-up: the cost model measures every node in the first steps.
    for (int i = 0; i < 20; ++i) {
      REQUIRE(session->Run({{"x", Tensor::FromVector<float>({1, 1}, {2})}}, {"y"}, {}, &out).ok());
    }
    runs_on_watched_pool = 0;
    for (int i = 0; i < 40; ++i) {
      REQUIRE(session->Run({{"x", Tensor::FromVector<float>({1, 1}, {2})}}, {"y"}, {}, &out).ok());
      REQUIRE(out[0].data<float>()[0] == expected);
    }
    return runs_on_watched_pool.load();
  };
  CHECK(run(/*long_chain=*/6, /*short_chains=*/1, /*short_length=*/1) == 0);
  CHECK(run(/*long_chain=*/3, /*short_chains=*/1, /*short_length=*/3) > 0);
  watched_pool = nullptr;
}

TEST_CASE("targets run nodes for their effects only") {
  Scope s = Scope::NewRootScope();
  auto c = ops::Const(s.WithOpName("c"), 2.f);
  auto n = ops::NoOp(s.WithOpName("n").WithControlDependencies({c}));
  auto session = MakeSession(s);
  std::vector<Tensor> out;
  REQUIRE(session->Run({}, {}, {"n"}, &out).ok());
  CHECK(out.empty());
  absl::Status st = session->Run({}, {}, {"missing"}, &out);
  CHECK_THAT(std::string(st.message()), Contains("target 'missing'"));
}

TEST_CASE("a closed session refuses to run") {
  Scope s = Scope::NewRootScope();
  ops::Const(s.WithOpName("c"), 2.f);
  auto session = MakeSession(s);
  REQUIRE(session->Close().ok());
  std::vector<Tensor> out;
  CHECK(absl::IsFailedPrecondition(session->Run({}, {"c"}, {}, &out)));
}

}  // namespace
}  // namespace weir

namespace weir {
namespace {

// A test-only op that sleeps, so a step is long enough to time out or cancel.
class SleepKernel : public OpKernel {
 public:
  explicit SleepKernel(const KernelConstruction& c) : OpKernel(c) {}
  absl::Status Compute(KernelContext* ctx) override {
    absl::SleepFor(absl::Milliseconds(20));
    ctx->set_output(0, ctx->input(0));
    return absl::OkStatus();
  }
};

void RegisterSleepOnce() {
  static bool done = [] {
    OpRegistry::Global().Register(
        OpSpec("TestSleep").Input("x: float").Output("y: float").SetShapeFn(UnchangedShape));
    DefaultKernelRegistry().Register({"TestSleep", kDeviceCpu, "", {}, MakeFactory<SleepKernel>()});
    return true;
  }();
  (void)done;
}

// x -> 10 sleeping nodes in a chain (~200 ms).
std::unique_ptr<Session> SleepChain() {
  RegisterSleepOnce();
  Scope s = Scope::NewRootScope();
  Output chain = ops::Placeholder(s.WithOpName("x"), DT_FLOAT);
  for (int i = 0; i < 10; ++i) chain = NodeBuilder(s, "TestSleep").Input(chain).Finalize();
  ops::Identity(s.WithOpName("y"), chain);
  return MakeSession(s);
}

TEST_CASE("a step past timeout_in_ms fails with DeadlineExceeded and the next run works") {
  auto session = SleepChain();
  RunOptions options;
  options.timeout_in_ms = 50;
  std::vector<Tensor> out;
  absl::Status st = session->Run(options, {{"x", Tensor::Scalar<float>(1)}}, {"y"}, {}, &out);
  REQUIRE(absl::IsDeadlineExceeded(st));
  CHECK_THAT(std::string(st.message()), Contains("TestSleep"));
  REQUIRE(session->Run({{"x", Tensor::Scalar<float>(3)}}, {"y"}, {}, &out).ok());
  CHECK(out[0].data<float>()[0] == 3.f);
}

TEST_CASE("a step cancelled from another thread fails with Cancelled and the next run works") {
  auto session = SleepChain();
  std::atomic<bool> cancel{false};
  RunOptions options;
  options.cancel = &cancel;
  std::thread canceller([&] {
    absl::SleepFor(absl::Milliseconds(50));
    cancel.store(true);
  });
  std::vector<Tensor> out;
  absl::Status st = session->Run(options, {{"x", Tensor::Scalar<float>(1)}}, {"y"}, {}, &out);
  canceller.join();
  REQUIRE(absl::IsCancelled(st));
  cancel.store(false);
  REQUIRE(session->Run(options, {{"x", Tensor::Scalar<float>(2)}}, {"y"}, {}, &out).ok());
  CHECK(out[0].data<float>()[0] == 2.f);
}

TEST_CASE("Close cancels a running step") {
  auto session = SleepChain();
  std::vector<Tensor> out;
  absl::Status st;
  std::thread runner([&] { st = session->Run({{"x", Tensor::Scalar<float>(1)}}, {"y"}, {}, &out); });
  absl::SleepFor(absl::Milliseconds(50));
  REQUIRE(session->Close().ok());
  runner.join();
  CHECK(absl::IsCancelled(st));
}

}  // namespace
}  // namespace weir

namespace weir {
namespace {

TEST_CASE("trace_level fills step stats with one entry per computed node") {
  Scope s = Scope::NewRootScope();
  auto x = ops::Placeholder(s.WithOpName("x"), DT_FLOAT, {2});
  auto a = ops::Identity(s.WithOpName("a"), x);
  ops::Identity(s.WithOpName("b"), a);
  // Level 0: at higher levels simplification forwards the unfetched Identity 'a' away.
  SessionOptions session_options;
  session_options.opt_level = 0;
  auto session = MakeSession(s, session_options);
  RunOptions options;
  options.trace_level = RunOptions::kFullTrace;
  RunMetadata metadata;
  std::vector<Tensor> out;
  REQUIRE(session->Run(options, {{"x", Tensor::FromVector<float>({1, 2}, {2})}}, {"b"}, {}, &out,
                       &metadata)
              .ok());
  REQUIRE(metadata.step_stats().dev_stats_size() == 1);
  const DeviceStepStats& dev = metadata.step_stats().dev_stats(0);
  CHECK(dev.device() == "/device:CPU:0");
  std::vector<std::string> names;
  for (const NodeExecStats& n : dev.node_stats()) {
    names.push_back(n.node_name());
    CHECK(n.op_start_rel_nanos() <= n.op_end_rel_nanos());
    CHECK(n.op_end_rel_nanos() <= n.all_end_rel_nanos());
    CHECK(dev.thread_names().count(n.thread_id()) == 1);
  }
  // a chain, so start order is data order
  CHECK(names == std::vector<std::string>{"_arg_x_0", "a", "b", "_retval_b_0"});
  const NodeExecStats& a_stats = dev.node_stats(1);
  REQUIRE(a_stats.output_size() == 1);
  CHECK(a_stats.output(0).tensor_description().dtype() == DT_FLOAT);
  CHECK(a_stats.output(0).tensor_description().shape().dim(0).size() == 2);
  // Without a trace level nothing is collected.
  RunMetadata empty;
  REQUIRE(session->Run(RunOptions(), {{"x", Tensor::FromVector<float>({1, 2}, {2})}}, {"b"}, {},
                       &out, &empty)
              .ok());
  CHECK(empty.step_stats().dev_stats_size() == 0);
}

}  // namespace
}  // namespace weir

namespace weir {
namespace {

TEST_CASE("PlaceholderWithDefault runs its default unless fed") {
  Scope s = Scope::NewRootScope();
  auto d = ops::Const(s.WithOpName("d"), std::vector<float>{1, 2}, TensorShape({2}));
  auto p = ops::PlaceholderWithDefault(s.WithOpName("p"), d, PartialShape({-1}));
  ops::Identity(s.WithOpName("y"), p);
  auto session = MakeSession(s);
  std::vector<Tensor> out;
  REQUIRE(session->Run({}, {"y"}, {}, &out).ok());
  CHECK(out[0].ValuesString() == "[1, 2]");
  REQUIRE(session->Run({{"p", Tensor::FromVector<float>({7, 8, 9}, {3})}}, {"y"}, {}, &out).ok());
  CHECK(out[0].ValuesString() == "[7, 8, 9]");
  absl::Status st = session->Run({{"p", Tensor::FromVector<float>({7}, {1, 1})}}, {"y"}, {}, &out);
  CHECK_THAT(std::string(st.message()), Contains("feed 'p' has shape [1,1], expected [?]"));
}

}  // namespace
}  // namespace weir
