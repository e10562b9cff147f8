// executor.cc - Dependency-driven execution of one device's graph.
#include "runtime/executor.h"

#include <memory>
#include <optional>
#include <utility>

#include "absl/base/optimization.h"
#include "absl/types/span.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "graph/ops/control_flow_ops.h"
#include "runtime/rendezvous.h"

namespace weir {

absl::StatusOr<std::unique_ptr<Executor>> Executor::Create(std::unique_ptr<Graph> graph,
                                                           Device* device,
                                                           const KernelRegistry& registry) {
  std::unique_ptr<Executor> exec(new Executor);
  exec->device_ = device;
  std::vector<Node*> nodes = graph->nodes();
  std::vector<int> item_of(graph->num_node_ids(), -1);
  exec->items_.resize(nodes.size());
  int slots = 0;
  for (size_t k = 0; k < nodes.size(); ++k) {
    Node* node = nodes[k];
    item_of[node->id()] = static_cast<int>(k);
    NodeItem& item = exec->items_[k];
    item.node = node;
    absl::StatusOr<std::unique_ptr<OpKernel>> kernel = CreateKernel(registry, *node, device);
    if (!kernel.ok()) return kernel.status();
    item.kernel = *std::move(kernel);
    item.async = item.kernel->AsAsync() != nullptr;
    // An asynchronous kernel only starts its work: cheap to start inline.
    item.expensive = !item.async && item.kernel->IsExpensive();
    item.is_merge = IsMergeOp(node->op());
    item.unset_outputs_are_dead = IsSwitchOp(node->op());
    item.input_start = slots;
    item.output_start = exec->total_outputs_;
    item.num_inputs = node->num_inputs();
    item.num_outputs = node->num_outputs();
    slots += item.num_inputs;
    exec->total_outputs_ += item.num_outputs;
  }
  exec->total_input_slots_ = slots;
  exec->cost_ns_.reset(new std::atomic<int64_t>[nodes.size()]);
  for (size_t k = 0; k < nodes.size(); ++k) exec->cost_ns_[k].store(-1, std::memory_order_relaxed);
  for (size_t k = 0; k < nodes.size(); ++k) {
    NodeItem& item = exec->items_[k];
    // Loops run on FrameStepState, which keeps its own counts per iteration (FrameInfo).
    item.initial_pending = static_cast<int>(item.node->in_edges().size());
    for (const Edge* e : item.node->out_edges()) {
      const int dst = item_of[e->dst->id()];
      const int slot = e->IsControl() ? -1 : exec->items_[dst].input_start + e->dst_input;
      item.out_edges.push_back({dst, e->src_output, slot});
    }
    std::vector<bool> seen(item.num_outputs, false);
    for (auto it = item.out_edges.rbegin(); it != item.out_edges.rend(); ++it) {
      if (it->dst_slot < 0 || seen[it->src_output]) continue;
      seen[it->src_output] = true;
      it->last_use = true;
    }
    if (item.initial_pending == 0) exec->roots_.push_back(static_cast<int>(k));
    if (item.is_merge) {
      exec->merge_items_.push_back(static_cast<int>(k));
      item.merge_scratch_start = exec->merge_scratch_slots_;
      exec->merge_scratch_slots_ += item.num_inputs;
    }
    if (item.async) item.async_index = exec->num_async_++;
    exec->has_switch_ |= item.unset_outputs_are_dead;
  }
  if (auto s = exec->BuildFrames(); !s.ok()) return s;
  // A topological order for the parallelism estimate, for plain DAGs only (no loops, no
  // Switch/Merge whose dead branches make costs conditional, no asynchronous kernels).
  if (!exec->has_loops_ && !exec->has_switch_ && exec->merge_items_.empty() &&
      exec->num_async_ == 0) {
    std::vector<int> indegree(nodes.size());
    for (size_t k = 0; k < nodes.size(); ++k) indegree[k] = exec->items_[k].initial_pending;
    exec->topo_order_ = exec->roots_;
    for (size_t head = 0; head < exec->topo_order_.size(); ++head) {
      for (const OutEdge& e : exec->items_[exec->topo_order_[head]].out_edges) {
        if (--indegree[e.dst] == 0) exec->topo_order_.push_back(e.dst);
      }
    }
    if (exec->topo_order_.size() != nodes.size()) exec->topo_order_.clear();
    absl::MutexLock lock(&exec->parallelism_mu_);
    exec->path_ns_.assign(nodes.size(), 0);
  }
  exec->graph_ = std::move(graph);
  // The first step state, so the first Run allocates nothing either.
  if (!exec->has_loops_) exec->ReleaseState(exec->AcquireState());
  return exec;
}

namespace {

// The nodes one thread has readied and not yet run or handed to the pool. Each Dispatch owns
// the part above the size it found (a kernel completing inline may nest one), and leaves the
// stack as it found it; the capacity stays, so steady-state steps do not allocate here.
using ReadyStack = std::vector<int>;

ReadyStack& ThreadReadyStack() {
  thread_local ReadyStack stack = [] {
    ReadyStack s;
    s.reserve(256);
    return s;
  }();
  return stack;
}

// When a kernel started and ended, for step stats.
struct OpTimes {
  int64_t start_ns = 0;
  int64_t end_ns = 0;
};

}  // namespace

// Everything one step owns. Built once and reused by later steps (Executor::AcquireState);
// every array is sized at construction.
class Executor::StepState {
 public:
  explicit StepState(const Executor& exec)
      : exec_(exec),
        pending_(new std::atomic<int>[exec.items_.size()]),
        input_dead_(new std::atomic<bool>[exec.items_.size()]),
        merge_input_(new std::atomic<int>[exec.items_.size()]),
        slots_(exec.total_input_slots_),
        outputs_(exec.total_outputs_),
        merge_inputs_(exec.merge_scratch_slots_),
        async_(exec.num_async_) {
    for (size_t k = 0; k < exec.items_.size(); ++k) {
      input_dead_[k].store(false, std::memory_order_relaxed);
      merge_input_[k].store(-1, std::memory_order_relaxed);
    }
  }

  // `measured` (set when the step sampled kernel times for the cost model).
  absl::Status Run(const StepArgs& args, bool* measured) {
    if (exec_.roots_.empty()) return absl::OkStatus();
    Reset(args);
    *measured = measure_;
    ReadyStack& stack = ThreadReadyStack();
    const size_t base = stack.size();
    stack.insert(stack.end(), exec_.roots_.begin(), exec_.roots_.end());
    Dispatch(stack, base);
    if (!serial_) WaitForFinish();
    Sweep();
    absl::MutexLock lock(&mu_);
    absl::Status status = std::move(status_);
    status_ = absl::OkStatus();
    return status;
  }

 private:
  // One asynchronous kernel's context and start times, alive from ComputeAsync to its callback.
  struct AsyncCall {
    std::optional<KernelContext> ctx;
    int64_t start_ns = 0;
    int64_t op_start_ns = 0;
  };

  void Reset(const StepArgs& args) {
    args_ = &args;
    pool_ = exec_.UsesPool() ? args.pool : nullptr;
    serial_ = pool_ == nullptr && exec_.num_async_ == 0;
    measure_ = args.stats == nullptr &&
               ShouldMeasure(exec_.steps_.fetch_add(1, std::memory_order_relaxed));
    for (size_t k = 0; k < exec_.items_.size(); ++k) {
      pending_[k].store(exec_.items_[k].initial_pending, std::memory_order_relaxed);
    }
    // Dead flags and Merge arrivals are only ever set in graphs with Switch/Merge.
    if (exec_.has_switch_ || !exec_.merge_items_.empty()) {
      for (size_t k = 0; k < exec_.items_.size(); ++k) {
        input_dead_[k].store(false, std::memory_order_relaxed);
        merge_input_[k].store(-1, std::memory_order_relaxed);
      }
    }
    failed_.store(false, std::memory_order_relaxed);
    finished_.store(false, std::memory_order_relaxed);
    {
      absl::MutexLock lock(&done_mu_);
      done_ = false;
    }
    outstanding_.store(static_cast<int>(exec_.roots_.size()), std::memory_order_relaxed);
  }

  // Drops every tensor the step still holds, so buffers go back to the allocator when the
  // step ends and the next step starts clean. A successful step has consumed every slot except
  // those that reached a Merge after it fired; a failed one may have left any.
  void Sweep() {
    if (failed_.load(std::memory_order_relaxed)) {
      for (Tensor& t : slots_) t = Tensor();
      for (Tensor& t : outputs_) t = Tensor();
      for (Tensor& t : merge_inputs_) t = Tensor();
      return;
    }
    for (int k : exec_.merge_items_) {
      const NodeItem& item = exec_.items_[k];
      for (int i = 0; i < item.num_inputs; ++i) slots_[item.input_start + i] = Tensor();
    }
  }

  static bool ShouldMeasure(uint64_t step) {
    return step < Executor::kMeasureFirstSteps || step % Executor::kSampleEvery == 0;
  }

  // Runs the nodes on `stack` from `base` on (all counted in outstanding_): expensive ones
  // beyond the first go to the pool, the rest run here, along with the cheap nodes they make
  // ready. Leaves the stack at `base`.
  void Dispatch(ReadyStack& stack, size_t base) {
    KeepOrSchedule(stack, base, /*busy=*/false);
    size_t head = base;
    while (head < stack.size()) {
      const int k = stack[head++];
      const size_t mark = stack.size();
      // An asynchronous kernel still running keeps its count until its callback.
      if (!Process(k, stack, mark)) continue;
      // Node k's count passes to the nodes it readied: no change for one (a chain costs no
      // atomic operation), a release for none, an increase for several -- made before any is
      // scheduled, so the step cannot finish while one still waits. After a release that
      // ends the step nothing here touches the state again.
      const int readied = static_cast<int>(stack.size() - mark);
      if (readied == 0) {
        AddOutstanding(-1);  // may end the step: no member access after it
      } else {
        if (readied > 1) AddOutstanding(readied - 1);
        KeepOrSchedule(stack, mark, /*busy=*/head < mark);
      }
      if (head == stack.size()) {
        stack.resize(base);
        head = base;
      }
    }
    stack.resize(base);
  }

  // Of the nodes on `stack` from `from` on, sends the expensive ones to the pool except the
  // first, which stays when this thread has nothing else queued (`busy` false).
  void KeepOrSchedule(ReadyStack& stack, size_t from, bool busy) {
    if (pool_ == nullptr) return;
    size_t kept_end = from;
    bool kept_expensive = false;
    for (size_t r = from; r < stack.size(); ++r) {
      const int n = stack[r];
      const bool expensive = !exec_.RunsInline(n);
      if (expensive && (kept_expensive || busy)) {
        Schedule(n);
      } else {
        kept_expensive |= expensive;
        stack[kept_end++] = n;
      }
    }
    stack.resize(kept_end);
  }

  void Schedule(int k) {
    // Two words: stored inline in the pool's queue, no allocation.
    pool_->Schedule([this, k] {
      ReadyStack& stack = ThreadReadyStack();
      const size_t base = stack.size();
      stack.push_back(k);
      Dispatch(stack, base);
    });
  }

  // Adds `delta` to the count of nodes ready or running; the step ends when it reaches zero.
  void AddOutstanding(int delta) {
    int left;
    if (serial_) {
      left = outstanding_.load(std::memory_order_relaxed) + delta;
      outstanding_.store(left, std::memory_order_relaxed);
    } else {
      left = outstanding_.fetch_add(delta, std::memory_order_acq_rel) + delta;
    }
    if (left == 0) Finish();
  }

  // Called once, by the thread whose release ended the step. On one thread that is the caller
  // itself; otherwise it wakes the caller, and the release store of finished_ is its last
  // touch of the state (after it the caller may reuse the state for another step).
  void Finish() {
    if (serial_) {
      finished_.store(true, std::memory_order_relaxed);
      return;
    }
    {
      absl::MutexLock lock(&done_mu_);
      done_ = true;
      done_cv_.Signal();
    }
    finished_.store(true, std::memory_order_release);
  }

  // The caller helps with queued nodes instead of sleeping while they wait for a worker.
  void WaitForFinish() {
    while (!finished_.load(std::memory_order_acquire)) {
      if (pool_ != nullptr && pool_->TryRunOne()) continue;
      absl::MutexLock lock(&done_mu_);
      if (!done_) done_cv_.WaitWithTimeout(&done_mu_, absl::Microseconds(200));
    }
  }

  // Checked before every node, so a lock-free flag rather than the status mutex.
  bool Failed() const { return failed_.load(std::memory_order_acquire); }

  void Fail(absl::Status status) {
    // A partition of a multi-device step: fail the receives waiting for this partition (and
    // this partition's own), or the step would wait for values that never come.
    Rendezvous* rendezvous = args_->frame != nullptr ? args_->frame->rendezvous : nullptr;
    if (rendezvous != nullptr) {
      {
        absl::MutexLock lock(&mu_);
        if (status_.ok()) status_ = status;
        failed_.store(true, std::memory_order_release);
      }
      rendezvous->StartAbort(status);
      return;
    }
    absl::MutexLock lock(&mu_);
    if (status_.ok()) status_ = std::move(status);
    failed_.store(true, std::memory_order_release);
  }

  // Node `dst` lost one pending input; true when it has none left.
  bool DecrementPending(int dst) {
    if (serial_) {
      const int left = pending_[dst].load(std::memory_order_relaxed) - 1;
      pending_[dst].store(left, std::memory_order_relaxed);
      return left == 0;
    }
    return pending_[dst].fetch_sub(1, std::memory_order_acq_rel) == 1;
  }

  // Computes node k and pushes the nodes it made ready onto `stack` (above `mark`, its size on
  // entry). Returns false when k is an asynchronous kernel still running: its callback
  // (FinishAsync) propagates and releases it.
  bool Process(int k, ReadyStack& stack, size_t mark) {
    const NodeItem& item = exec_.items_[k];
    const StepArgs& args = *args_;
    const int64_t start_ns = args.stats != nullptr ? absl::GetCurrentTimeNanos() : 0;
    OpTimes times;
    if (Failed()) return true;
    if (args.cancelled != nullptr && args.cancelled->load(std::memory_order_relaxed)) {
      Fail(absl::CancelledError(absl::StrCat("step was cancelled before node ",
                                             item.node->DebugName(), " could run")));
      return true;
    }
    if (args.session_closing != nullptr &&
        args.session_closing->load(std::memory_order_relaxed)) {
      Fail(absl::CancelledError("session was closed while the step ran"));
      return true;
    }
    if (args.deadline != absl::InfiniteFuture() && absl::Now() > args.deadline) {
      Fail(absl::DeadlineExceededError(absl::StrCat(
          "step timed out before node ", item.node->DebugName(), " could run")));
      return true;
    }
    Tensor* outputs = &outputs_[item.output_start];
    Tensor* inputs = &slots_[item.input_start];
    // A node is dead when an input is dead; a Merge only when none of its inputs is live.
    bool dead = false;
    if (item.is_merge) {
      const int live = merge_input_[k].load(std::memory_order_acquire);
      dead = live < 0;
      if (!dead) {
        // Late (dead or live) arrivals may still write the slots: pass only the live one,
        // through the Merge's own input array.
        Tensor* merge_inputs = &merge_inputs_[item.merge_scratch_start];
        merge_inputs[live] = std::move(inputs[live]);
        const bool ok = Compute(item, merge_inputs, outputs, &times);
        merge_inputs[live] = Tensor();
        if (!ok) return true;
      }
    } else {
      dead = input_dead_[k].load(std::memory_order_acquire);
      if (!dead && item.async) {
        StartAsync(k, start_ns);
        return false;
      }
      const bool ok = dead || Compute(item, inputs, outputs, &times);
      // Drop the input references now so buffers free as early as possible.
      for (int i = 0; i < item.num_inputs; ++i) inputs[i] = Tensor();
      if (!ok) return true;
    }
    Propagate(k, dead, start_ns, times, stack, mark);
    return true;
  }

  void StartAsync(int k, int64_t start_ns) {
    const NodeItem& item = exec_.items_[k];
    AsyncCall& call = async_[item.async_index];
    call.ctx.emplace(exec_.device_, args_->frame, &slots_[item.input_start], item.num_inputs,
                     &outputs_[item.output_start], item.num_outputs);
    call.start_ns = start_ns;
    call.op_start_ns = args_->stats != nullptr ? absl::GetCurrentTimeNanos() : 0;
    // Two words: fits std::function's inline storage.
    item.kernel->AsAsync()->ComputeAsync(&*call.ctx, [this, k] { FinishAsync(k); });
  }

  // The callback of an asynchronous kernel: propagate its outputs, run what they made ready,
  // release its count.
  void FinishAsync(int k) {
    const NodeItem& item = exec_.items_[k];
    AsyncCall& call = async_[item.async_index];
    const OpTimes times{call.op_start_ns,
                        args_->stats != nullptr ? absl::GetCurrentTimeNanos() : 0};
    for (int i = 0; i < item.num_inputs; ++i) slots_[item.input_start + i] = Tensor();
    if (!call.ctx->status().ok()) {
      Fail(absl::Status(call.ctx->status().code(),
                        absl::StrCat("node ", item.node->DebugName(), ": ",
                                     call.ctx->status().message())));
      for (int i = 0; i < item.num_outputs; ++i) outputs_[item.output_start + i] = Tensor();
      call.ctx.reset();
      AddOutstanding(-1);
      return;
    }
    ReadyStack& stack = ThreadReadyStack();
    const size_t base = stack.size();
    Propagate(k, /*dead=*/false, call.start_ns, times, stack, base);
    call.ctx.reset();
    const int readied = static_cast<int>(stack.size() - base);
    if (readied == 0) {
      AddOutstanding(-1);  // may end the step: no member access after it
      return;
    }
    if (readied > 1) AddOutstanding(readied - 1);
    Dispatch(stack, base);
  }

  // Hands node k's outputs (or its deadness) to its consumers and pushes the nodes that
  // became ready onto `stack` (whose size was `mark` before node k).
  void Propagate(int k, bool dead, int64_t start_ns, const OpTimes& times, ReadyStack& stack,
                 size_t mark) {
    const NodeItem& item = exec_.items_[k];
    Tensor* outputs = &outputs_[item.output_start];
    const bool tracing = args_->stats != nullptr;
    for (const OutEdge& e : item.out_edges) {
      bool edge_dead = dead;
      if (e.dst_slot >= 0 && !dead) {
        Tensor& out = outputs[e.src_output];
        if (!out.IsInitialized()) {
          if (!item.unset_outputs_are_dead) {
            Fail(absl::InternalError(absl::StrCat("node ", item.node->DebugName(),
                                                  ": kernel did not produce output ", e.src_output)));
            stack.resize(mark);
            return;
          }
          edge_dead = true;
        } else if (e.last_use && !tracing) {
          slots_[e.dst_slot] = std::move(out);
        } else {
          slots_[e.dst_slot] = out;
        }
      }
      const NodeItem& dst = exec_.items_[e.dst];
      if (dst.is_merge) {
        // The first live data input fires the Merge; when all inputs arrived dead, it fires dead.
        bool fire = false;
        if (e.dst_slot >= 0 && !edge_dead) {
          int expected = -1;
          fire = merge_input_[e.dst].compare_exchange_strong(expected, e.dst_slot - dst.input_start,
                                                            std::memory_order_acq_rel);
        }
        const bool last = DecrementPending(e.dst);
        if (fire || (last && merge_input_[e.dst].load(std::memory_order_acquire) < 0)) {
          stack.push_back(e.dst);
        }
        continue;
      }
      if (edge_dead) input_dead_[e.dst].store(true, std::memory_order_release);
      if (DecrementPending(e.dst)) stack.push_back(e.dst);
    }
    if (tracing && !dead) {
      RecordNodeStats(args_->stats, item, outputs, start_ns, times.start_ns, times.end_ns);
    }
    for (int i = 0; i < item.num_outputs; ++i) outputs[i] = Tensor();
  }

  // Runs the kernel; false (with the step failed) on error.
  bool Compute(const NodeItem& item, Tensor* inputs, Tensor* outputs, OpTimes* times) {
    KernelContext ctx(exec_.device_, args_->frame, inputs, item.num_inputs, outputs,
                      item.num_outputs);
    const bool timed = args_->stats != nullptr || (measure_ && item.expensive);
    if (timed) times->start_ns = absl::GetCurrentTimeNanos();
    absl::Status s;
    if (item.expensive) {
      Device::KernelScope running(exec_.device_);
      s = item.kernel->Compute(&ctx);
    } else {
      s = item.kernel->Compute(&ctx);
    }
    if (timed) {
      times->end_ns = absl::GetCurrentTimeNanos();
      exec_.RecordCost(static_cast<int>(&item - exec_.items_.data()),
                       times->end_ns - times->start_ns);
    }
    if (ABSL_PREDICT_FALSE(!s.ok())) {
      Fail(absl::Status(s.code(), absl::StrCat("node ", item.node->DebugName(), ": ", s.message())));
      return false;
    }
    return true;
  }

  const Executor& exec_;
  // This step's arguments (the caller's, alive until Run returns) and what follows from them.
  const StepArgs* args_ = nullptr;
  ThreadPool* pool_ = nullptr;
  // No pool and no asynchronous kernel: the whole step runs on the calling thread.
  bool serial_ = true;
  // Whether this step samples kernel times for the cost model.
  bool measure_ = false;
  std::unique_ptr<std::atomic<int>[]> pending_;
  std::unique_ptr<std::atomic<bool>[]> input_dead_;
  // For Merge nodes: the input index of the first live arrival, -1 until one arrives.
  std::unique_ptr<std::atomic<int>[]> merge_input_;
  std::vector<Tensor> slots_;
  // Each node's outputs while it propagates them; released right after.
  std::vector<Tensor> outputs_;
  // Merge nodes' kernel inputs: only the live one is set, while the kernel runs.
  std::vector<Tensor> merge_inputs_;
  std::vector<AsyncCall> async_;
  std::atomic<int> outstanding_{0};
  std::atomic<bool> failed_{false};
  std::atomic<bool> finished_{false};
  absl::Mutex done_mu_;
  absl::CondVar done_cv_;
  bool done_ ABSL_GUARDED_BY(done_mu_) = false;
  absl::Mutex mu_;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
};

Executor::~Executor() = default;

Executor::StepState* Executor::AcquireState() const {
  if (StepState* state = cached_state_.exchange(nullptr, std::memory_order_acquire)) {
    return state;
  }
  {
    absl::MutexLock lock(&states_mu_);
    if (!free_states_.empty()) {
      StepState* state = free_states_.back();
      free_states_.pop_back();
      return state;
    }
  }
  // More steps at once than ever before: one more state, owned by the executor.
  auto state = std::make_unique<StepState>(*this);
  StepState* raw = state.get();
  absl::MutexLock lock(&states_mu_);
  all_states_.push_back(std::move(state));
  // Room for every state, so giving one back never allocates.
  free_states_.reserve(all_states_.size());
  return raw;
}

void Executor::ReleaseState(StepState* state) const {
  StepState* expected = nullptr;
  if (cached_state_.compare_exchange_strong(expected, state, std::memory_order_release)) return;
  absl::MutexLock lock(&states_mu_);
  free_states_.push_back(state);
}

void Executor::RecordNodeStats(StepStatsCollector* collector, const NodeItem& item,
                               const Tensor* outputs, int64_t start_ns, int64_t op_start_ns,
                               int64_t op_end_ns) {
  const int64_t end_ns = absl::GetCurrentTimeNanos();
  NodeExecStats stats;
  stats.set_node_name(item.node->name());
  stats.set_timeline_label(item.node->op());
  stats.set_all_start_nanos(start_ns);
  stats.set_all_start_micros(start_ns / 1000);
  stats.set_op_start_rel_nanos(op_start_ns - start_ns);
  stats.set_op_end_rel_nanos(op_end_ns - start_ns);
  stats.set_all_end_rel_nanos(end_ns - start_ns);
  stats.set_op_start_rel_micros((op_start_ns - start_ns) / 1000);
  stats.set_op_end_rel_micros((op_end_ns - start_ns) / 1000);
  stats.set_all_end_rel_micros((end_ns - start_ns) / 1000);
  stats.set_thread_id(StepStatsCollector::CurrentThreadId());
  for (int i = 0; i < item.num_outputs; ++i) {
    if (!outputs[i].IsInitialized()) continue;
    NodeOutput* out = stats.add_output();
    out->set_slot(i);
    TensorDescription* desc = out->mutable_tensor_description();
    desc->set_dtype(outputs[i].dtype());
    outputs[i].shape().ToProto(desc->mutable_shape());
    desc->mutable_allocation_description()->set_requested_bytes(outputs[i].TotalBytes());
  }
  collector->Record(std::move(stats));
}

void Executor::RecordCost(int k, int64_t ns) const {
  // An average over about 8 samples: steady, yet follows a shape change within a few samples.
  const int64_t old = cost_ns_[k].load(std::memory_order_relaxed);
  cost_ns_[k].store(old < 0 ? ns : old + (ns - old) / 8, std::memory_order_relaxed);
}

int64_t Executor::LearnedCostNs(const std::string& name) const {
  for (size_t k = 0; k < items_.size(); ++k) {
    if (items_[k].node->name() == name) return cost_ns_[k].load(std::memory_order_relaxed);
  }
  return -1;
}

void Executor::UpdateParallelism() const {
  if (topo_order_.empty() || !parallelism_mu_.TryLock()) return;
  // Longest path ending at each node, over the learned costs (unmeasured nodes count 0).
  int64_t total = 0, longest = 0;
  for (int k : topo_order_) path_ns_[k] = 0;
  for (int k : topo_order_) {
    const int64_t cost = std::max<int64_t>(0, cost_ns_[k].load(std::memory_order_relaxed));
    total += cost;
    const int64_t end = path_ns_[k] + cost;
    longest = std::max(longest, end);
    for (const OutEdge& e : items_[k].out_edges) path_ns_[e.dst] = std::max(path_ns_[e.dst], end);
  }
  if (longest > 0) {
    parallelism_ = static_cast<double>(total) / static_cast<double>(longest);
    uses_pool_.store(parallelism_ >= kMinParallelism, std::memory_order_relaxed);
  }
  parallelism_mu_.Unlock();
}

double Executor::LearnedParallelism() const {
  absl::MutexLock lock(&parallelism_mu_);
  return parallelism_;
}

absl::Status Executor::Run(const StepArgs& args) const {
  if (has_loops_) return RunWithFrames(args);
  StepState* state = AcquireState();
  bool measured = false;
  absl::Status status = state->Run(args, &measured);
  ReleaseState(state);
  if (measured) UpdateParallelism();
  return status;
}

}  // namespace weir
