// executor.cc - Dependency-driven execution of one device's graph.
#include "runtime/executor.h"

#include <memory>

#include "absl/container/inlined_vector.h"
#include "absl/types/span.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "graph/ops/control_flow_ops.h"
#include "absl/synchronization/notification.h"

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
  }
  if (auto s = exec->BuildFrames(); !s.ok()) return s;
  exec->graph_ = std::move(graph);
  return exec;
}

// Everything one step owns.
// Nodes made ready by one completion; inline storage keeps the common case off the heap.
using ReadyList = absl::InlinedVector<int, 4>;

// When a kernel started and ended, for step stats.
struct OpTimes {
  int64_t start_ns = 0;
  int64_t end_ns = 0;
};

class Executor::StepState : public std::enable_shared_from_this<Executor::StepState> {
 public:
  StepState(const Executor& exec, const StepArgs& args)
      : exec_(exec),
        args_(args),
        measure_(args.stats == nullptr && ShouldMeasure(exec.steps_.fetch_add(1, std::memory_order_relaxed))),
        pending_(new std::atomic<int>[exec.items_.size()]),
        input_dead_(new std::atomic<bool>[exec.items_.size()]),
        merge_input_(new std::atomic<int>[exec.items_.size()]),
        slots_(exec.total_input_slots_),
        outputs_(exec.total_outputs_) {
    for (size_t k = 0; k < exec.items_.size(); ++k) {
      pending_[k].store(exec.items_[k].initial_pending, std::memory_order_relaxed);
      input_dead_[k].store(false, std::memory_order_relaxed);
      merge_input_[k].store(-1, std::memory_order_relaxed);
    }
  }

  absl::Status Run() {
    if (exec_.items_.empty()) return absl::OkStatus();
    outstanding_.store(static_cast<int>(exec_.roots_.size()));
    Dispatch(absl::MakeConstSpan(exec_.roots_));
    // Help with queued nodes instead of sleeping while they wait for a worker.
    while (!done_.HasBeenNotified()) {
      if (args_.pool != nullptr && args_.pool->TryRunOne()) continue;
      done_.WaitForNotificationWithTimeout(absl::Microseconds(200));
    }
    absl::MutexLock lock(&mu_);
    return status_;
  }

 private:
  static bool ShouldMeasure(uint64_t step) {
    return step < Executor::kMeasureFirstSteps || step % Executor::kSampleEvery == 0;
  }

  // Runs `ready` (all counted in outstanding_): expensive ones beyond the first go to the
  // pool, the rest run here.
  void Dispatch(absl::Span<const int> ready) {
    // Nodes this thread runs, in FIFO order (head indexes the next one).
    absl::InlinedVector<int, 16> local;
    size_t head = 0;
    bool kept_expensive = false;
    for (int k : ready) {
      const bool expensive = !exec_.RunsInline(k);
      if (expensive && args_.pool != nullptr && kept_expensive) {
        Schedule(k);
      } else {
        kept_expensive |= expensive;
        local.push_back(k);
      }
    }
    while (head < local.size()) {
      int k = local[head++];
      ReadyList next;
      // An asynchronous kernel still running keeps its count until its callback.
      if (!Process(k, &next)) continue;
      // Process counted `next` in outstanding_ before releasing its own count, so the step
      // cannot finish between here and the dispatch below.
      bool kept = false;
      for (int n : next) {
        const bool expensive = !exec_.RunsInline(n);
        if (expensive && args_.pool != nullptr && (kept || head < local.size())) {
          Schedule(n);
        } else {
          kept |= expensive;
          local.push_back(n);
        }
      }
      Release();
    }
  }

  void Schedule(int k) {
    args_.pool->Schedule([self = shared_from_this(), k] {
      const int one[1] = {k};
      self->Dispatch(one);
    });
  }

  void Release() {
    if (outstanding_.fetch_sub(1, std::memory_order_acq_rel) == 1) done_.Notify();
  }

  // Checked before every node, so a lock-free flag rather than the status mutex.
  bool Failed() const { return failed_.load(std::memory_order_acquire); }

  void Fail(absl::Status status) {
    absl::MutexLock lock(&mu_);
    if (status_.ok()) status_ = std::move(status);
    failed_.store(true, std::memory_order_release);
  }

  // Computes node k and fills `ready` with the nodes it made ready, already counted as
  // outstanding. Returns false when k is an asynchronous kernel still running: its callback
  // (FinishAsync) propagates and releases it.
  bool Process(int k, ReadyList* ready) {
    const NodeItem& item = exec_.items_[k];
    const int64_t start_ns = args_.stats != nullptr ? absl::GetCurrentTimeNanos() : 0;
    OpTimes times;
    if (Failed()) return true;
    if (args_.cancelled != nullptr && args_.cancelled->load(std::memory_order_relaxed)) {
      Fail(absl::CancelledError(absl::StrCat("step was cancelled before node ",
                                             item.node->DebugName(), " could run")));
      return true;
    }
    if (args_.session_closing != nullptr &&
        args_.session_closing->load(std::memory_order_relaxed)) {
      Fail(absl::CancelledError("session was closed while the step ran"));
      return true;
    }
    if (args_.deadline != absl::InfiniteFuture() && absl::Now() > args_.deadline) {
      Fail(absl::DeadlineExceededError(absl::StrCat(
          "step timed out before node ", item.node->DebugName(), " could run")));
      return true;
    }
    Tensor* outputs = &outputs_[item.output_start];
    // A node is dead when an input is dead; a Merge only when none of its inputs is live.
    bool dead = false;
    if (item.is_merge) {
      const int live = merge_input_[k].load(std::memory_order_acquire);
      dead = live < 0;
      if (!dead) {
        // Late (dead or live) arrivals may still write the other slots: pass only the live one.
        std::vector<Tensor> inputs(item.num_inputs);
        inputs[live] = slots_[item.input_start + live];
        if (!Compute(item, inputs.data(), outputs, &times)) return true;
      }
    } else {
      dead = input_dead_[k].load(std::memory_order_acquire);
      if (!dead && item.async) {
        StartAsync(k, start_ns);
        return false;
      }
      if (!dead) {
        Tensor* inputs = &slots_[item.input_start];
        bool ok = Compute(item, inputs, outputs, &times);
        // Drop the input references now so buffers free as early as possible.
        for (int i = 0; i < item.num_inputs; ++i) inputs[i] = Tensor();
        if (!ok) return true;
      }
    }
    Propagate(k, dead, start_ns, times, ready);
    return true;
  }

  void StartAsync(int k, int64_t start_ns) {
    const NodeItem& item = exec_.items_[k];
    auto* ctx = new KernelContext(exec_.device_, args_.frame, &slots_[item.input_start],
                                  item.num_inputs, &outputs_[item.output_start], item.num_outputs);
    const int64_t op_start_ns = args_.stats != nullptr ? absl::GetCurrentTimeNanos() : 0;
    item.kernel->AsAsync()->ComputeAsync(
        ctx, [self = shared_from_this(), k, ctx, start_ns, op_start_ns] {
          self->FinishAsync(k, std::unique_ptr<KernelContext>(ctx), start_ns, op_start_ns);
        });
  }

  // The callback of an asynchronous kernel: propagate its outputs, run what they made ready,
  // then release its count.
  void FinishAsync(int k, std::unique_ptr<KernelContext> ctx, int64_t start_ns,
                   int64_t op_start_ns) {
    const NodeItem& item = exec_.items_[k];
    OpTimes times{op_start_ns, args_.stats != nullptr ? absl::GetCurrentTimeNanos() : 0};
    for (int i = 0; i < item.num_inputs; ++i) slots_[item.input_start + i] = Tensor();
    if (!ctx->status().ok()) {
      Fail(absl::Status(ctx->status().code(),
                        absl::StrCat("node ", item.node->DebugName(), ": ", ctx->status().message())));
      for (int i = 0; i < item.num_outputs; ++i) outputs_[item.output_start + i] = Tensor();
    } else {
      ReadyList ready;
      Propagate(k, /*dead=*/false, start_ns, times, &ready);
      Dispatch(ready);
    }
    ctx.reset();
    Release();
  }

  // Hands node k's outputs (or its deadness) to its consumers; fills `ready` with the nodes
  // that became ready and counts them as outstanding.
  void Propagate(int k, bool dead, int64_t start_ns, const OpTimes& times, ReadyList* out_ready) {
    const NodeItem& item = exec_.items_[k];
    Tensor* outputs = &outputs_[item.output_start];
    ReadyList& ready = *out_ready;
    for (const OutEdge& e : item.out_edges) {
      bool edge_dead = dead;
      if (e.dst_slot >= 0 && !dead) {
        Tensor& out = outputs[e.src_output];
        if (!out.IsInitialized()) {
          if (!item.unset_outputs_are_dead) {
            Fail(absl::InternalError(absl::StrCat("node ", item.node->DebugName(),
                                                  ": kernel did not produce output ", e.src_output)));
            ready.clear();
            return;
          }
          edge_dead = true;
        } else if (e.last_use && args_.stats == nullptr) {
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
        const bool last = pending_[e.dst].fetch_sub(1, std::memory_order_acq_rel) == 1;
        if (fire || (last && merge_input_[e.dst].load(std::memory_order_acquire) < 0)) {
          ready.push_back(e.dst);
        }
        continue;
      }
      if (edge_dead) input_dead_[e.dst].store(true, std::memory_order_release);
      if (pending_[e.dst].fetch_sub(1, std::memory_order_acq_rel) == 1) ready.push_back(e.dst);
    }
    if (args_.stats != nullptr && !dead) {
      RecordNodeStats(args_.stats, item, outputs, start_ns, times.start_ns, times.end_ns);
    }
    for (int i = 0; i < item.num_outputs; ++i) outputs[i] = Tensor();
    outstanding_.fetch_add(static_cast<int>(ready.size()), std::memory_order_relaxed);
  }

  // Runs the kernel; false (with the step failed) on error.
  bool Compute(const NodeItem& item, Tensor* inputs, Tensor* outputs, OpTimes* times) {
    KernelContext ctx(exec_.device_, args_.frame, inputs, item.num_inputs, outputs,
                      item.num_outputs);
    const bool timed = args_.stats != nullptr || (measure_ && item.expensive);
    if (timed) times->start_ns = absl::GetCurrentTimeNanos();
    absl::Status s = item.kernel->Compute(&ctx);
    if (timed) {
      times->end_ns = absl::GetCurrentTimeNanos();
      exec_.RecordCost(static_cast<int>(&item - exec_.items_.data()),
                       times->end_ns - times->start_ns);
    }
    if (!s.ok()) {
      Fail(absl::Status(s.code(), absl::StrCat("node ", item.node->DebugName(), ": ", s.message())));
      return false;
    }
    return true;
  }

  const Executor& exec_;
  const StepArgs& args_;
  // Whether this step samples kernel times for the cost model.
  const bool measure_;
  std::unique_ptr<std::atomic<int>[]> pending_;
  std::unique_ptr<std::atomic<bool>[]> input_dead_;
  // For Merge nodes: the input index of the first live arrival, -1 until one arrives.
  std::unique_ptr<std::atomic<int>[]> merge_input_;
  std::vector<Tensor> slots_;
  // Each node's outputs while it propagates them; released right after.
  std::vector<Tensor> outputs_;
  std::atomic<int> outstanding_{0};
  absl::Notification done_;
  std::atomic<bool> failed_{false};
  absl::Mutex mu_;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
};

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

absl::Status Executor::Run(const StepArgs& args) const {
  if (has_loops_) return RunWithFrames(args);
  // Shared with pool tasks: a worker may still be returning from the last Release() when the
  // caller wakes up, so the state lives until its last user lets go.
  auto state = std::make_shared<StepState>(*this, args);
  return state->Run();
}

}  // namespace weir
