// executor_frames.cc - Frames and iterations for TensorFlow 1.x while loops (see executor.h).
//
// Only graphs with loop ops come here; the per-node path in executor.cc stays as it was. The
// bookkeeping (pending counts, dead flags, slots, frame and iteration lifetimes) sits under one
// mutex per step; kernels run outside it, so independent nodes -- also of different
// iterations -- still run in parallel.
#include <algorithm>
#include <map>
#include <memory>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/types/span.h"
#include "graph/ops/control_flow_ops.h"
#include "runtime/executor.h"

namespace weir {

absl::Status Executor::BuildFrames() {
  for (const NodeItem& item : items_) {
    const std::string& op = item.node->op();
    has_loops_ |= IsEnterOp(op) || IsExitOp(op) || IsNextIterationOp(op) || IsLoopCondOp(op);
  }
  if (!has_loops_) return absl::OkStatus();

  frames_.clear();
  frames_.push_back(FrameInfo{});
  frames_[0].name = "(root)";
  std::vector<int> item_of(items_.empty() ? 0 : 1, -1);
  for (size_t k = 0; k < items_.size(); ++k) {
    const int id = items_[k].node->id();
    if (id >= static_cast<int>(item_of.size())) item_of.resize(id + 1, -1);
    item_of[id] = static_cast<int>(k);
  }
  auto is_back_edge = [](const Edge* e) { return IsNextIterationOp(e->src->op()); };
  for (const NodeItem& item : items_) {
    if (!IsNextIterationOp(item.node->op())) continue;
    for (const OutEdge& e : item.out_edges) {
      const NodeItem& dst = items_[e.dst];
      if (e.dst_slot >= 0 && !dst.is_merge) {
        return absl::InvalidArgumentError(absl::StrCat(
            "node ", item.node->DebugName(), " feeds ", dst.node->DebugName(),
            ", expected a Merge (NextIteration closes a loop through its Merge)"));
      }
    }
  }
  // Static frames by (parent frame, frame_name).
  std::map<std::pair<int, std::string>, int> frame_ids;
  std::vector<int> frame_of(items_.size(), -1);
  // The frame each node's outputs arrive in: a child for Enter, the parent for Exit.
  std::vector<int> out_frame(items_.size(), -1);
  // Visit nodes after all their inputs (back edges aside), so a node's frame is checked
  // against every input at once and an error names the node that mixes frames.
  std::vector<int> pending(items_.size(), 0);
  std::vector<int> queue;
  for (size_t k = 0; k < items_.size(); ++k) {
    for (const Edge* e : items_[k].node->in_edges()) pending[k] += is_back_edge(e) ? 0 : 1;
    if (pending[k] == 0) queue.push_back(static_cast<int>(k));
  }
  for (size_t head = 0; head < queue.size(); ++head) {
    const int k = queue[head];
    NodeItem& item = items_[k];
    const std::string& op = item.node->op();
    item.is_enter = IsEnterOp(op);
    item.is_exit = IsExitOp(op);
    item.is_next_iteration = IsNextIterationOp(op);
    int frame = 0;
    const Node* frame_source = nullptr;
    for (const Edge* e : item.node->in_edges()) {
      if (is_back_edge(e)) continue;
      const int src_frame = out_frame[item_of[e->src->id()]];
      if (frame_source != nullptr && src_frame != frame) {
        return absl::InvalidArgumentError(absl::StrCat(
            "node ", item.node->DebugName(), " has inputs from different frames: '",
            frames_[frame].name, "' through ", frame_source->DebugName(), " and '",
            frames_[src_frame].name, "' through ", e->src->DebugName()));
      }
      frame = src_frame;
      frame_source = e->src;
    }
    frame_of[k] = frame;
    if (frame == 0 && (item.is_exit || item.is_next_iteration || IsLoopCondOp(op))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "node ", item.node->DebugName(), " is not inside a while loop: no Enter leads to it"));
    }
    out_frame[k] = frame;
    if (item.is_enter) {
      std::string name;
      int64_t parallel = 10;
      if (auto s = item.node->GetAttr("frame_name", &name); !s.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("node ", item.node->DebugName(), ": ",
                                                       s.message()));
      }
      item.node->GetAttr("is_constant", &item.is_constant_enter).IgnoreError();
      item.node->GetAttr("parallel_iterations", &parallel).IgnoreError();
      if (parallel < 1) {
        return absl::InvalidArgumentError(absl::StrCat("node ", item.node->DebugName(),
                                                       ": parallel_iterations is ", parallel,
                                                       ", expected at least 1"));
      }
      auto [it, inserted] = frame_ids.try_emplace({frame, name}, static_cast<int>(frames_.size()));
      if (inserted) {
        FrameInfo info;
        info.name = name;
        info.parent = frame;
        info.parallel_iterations = static_cast<int>(std::min<int64_t>(parallel, 1 << 20));
        frames_.push_back(std::move(info));
      }
      item.child_frame = it->second;
      ++frames_[item.child_frame].num_enters;
      out_frame[k] = item.child_frame;
    } else if (item.is_exit) {
      out_frame[k] = frames_[frame].parent;
    }
    for (const OutEdge& e : item.out_edges) {
      if (item.is_next_iteration) continue;
      if (--pending[e.dst] == 0) queue.push_back(e.dst);
    }
  }
  for (size_t k = 0; k < items_.size(); ++k) {
    if (frame_of[k] < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "node ", items_[k].node->DebugName(),
          " is on a loop that no Enter leads into (only reachable through NextIteration)"));
    }
  }
  // Back edges close a loop within one frame, into its Merge.
  for (size_t k = 0; k < items_.size(); ++k) {
    const NodeItem& item = items_[k];
    if (!item.is_next_iteration) continue;
    for (const OutEdge& e : item.out_edges) {
      const NodeItem& dst = items_[e.dst];
      if (frame_of[e.dst] != frame_of[k]) {
        return absl::InvalidArgumentError(absl::StrCat(
            "node ", dst.node->DebugName(), " has inputs from different frames: '",
            frames_[frame_of[e.dst]].name, "' and '", frames_[frame_of[k]].name, "' through ",
            item.node->DebugName()));
      }
    }
  }

  for (size_t k = 0; k < items_.size(); ++k) {
    NodeItem& item = items_[k];
    FrameInfo& frame = frames_[frame_of[k]];
    item.frame = frame_of[k];
    item.local_id = frame.num_nodes++;
    item.local_input_start = frame.num_input_slots;
    frame.num_input_slots += item.num_inputs;
    const std::vector<Edge*>& in = item.node->in_edges();
    int first = static_cast<int>(in.size());
    int next = first;
    bool has_back_edge = false;
    for (const Edge* e : in) has_back_edge |= IsNextIterationOp(e->src->op());
    if (item.is_merge && has_back_edge) {
      // Entry inputs arrive in iteration 0, back edges in every later one; control inputs
      // from inside the frame arrive in every iteration.
      first = next = 0;
      for (const Edge* e : in) {
        const bool back = IsNextIterationOp(e->src->op());
        first += back ? 0 : 1;
        next += back || (e->IsControl() && !IsEnterOp(e->src->op())) ? 1 : 0;
      }
    }
    frame.pending_first.push_back(first);
    frame.pending_next.push_back(next);
  }
  return absl::OkStatus();
}

namespace {

// Per (frame instance, iteration): what the per-node path keeps per step.
struct IterationState {
  IterationState(int num_nodes, int num_slots, const std::vector<int>& pending_init)
      : pending(pending_init), dead(num_nodes, 0), merge_input(num_nodes, -1), slots(num_slots) {}
  std::vector<int> pending;
  std::vector<char> dead;
  std::vector<int> merge_input;  // Merge: the first live input, -1 until one arrives
  std::vector<Tensor> slots;
  int outstanding_ops = 0;     // nodes of this iteration ready or running
  int outstanding_frames = 0;  // child frame instances started in this iteration, not done
};

}  // namespace

class Executor::FrameStepState : public std::enable_shared_from_this<FrameStepState> {
 public:
  FrameStepState(const Executor& exec, const StepArgs& args) : exec_(exec), args_(args) {}

  absl::Status Run() {
    if (exec_.items_.empty()) return absl::OkStatus();
    Ready roots;
    {
      absl::MutexLock lock(&mu_);
      root_ = NewFrame(0, nullptr, 0);
      IterationState* iter = root_->iterations.at(0).get();
      for (int k : exec_.roots_) {
        ++iter->outstanding_ops;
        roots.push_back({k, root_.get(), 0});
      }
    }
    outstanding_.store(static_cast<int>(roots.size()));
    Dispatch(roots);
    done_.WaitForNotification();
    absl::MutexLock lock(&mu_);
    return status_;
  }

 private:
  struct FrameInstance {
    const FrameInfo* info = nullptr;
    FrameInstance* parent = nullptr;
    int64_t parent_iter = 0;
    int pending_enters = 0;       // Enter nodes of this frame that have not delivered yet
    int64_t iteration_count = 0;  // the newest iteration
    int outstanding_iterations = 1;
    std::map<int64_t, std::unique_ptr<IterationState>> iterations;
    // Values of constant Enters, given to every iteration.
    struct Invariant {
      int item;
      Tensor value;
      bool dead;
    };
    std::vector<Invariant> invariants;
    // NextIteration outputs held back by parallel_iterations.
    std::vector<std::pair<int, Tensor>> deferred;
    // Exits that were dead in the newest iteration: dead in the parent once the frame is done.
    std::vector<int> dead_exits;
    // Child frames by (iteration, static frame).
    std::map<std::pair<int64_t, int>, std::unique_ptr<FrameInstance>> children;
  };
  struct TaggedNode {
    int item;
    FrameInstance* frame;
    int64_t iter;
  };
  using Ready = absl::InlinedVector<TaggedNode, 4>;
  using Outputs = absl::InlinedVector<Tensor, 4>;

  std::unique_ptr<FrameInstance> NewFrame(int frame_id, FrameInstance* parent,
                                          int64_t parent_iter) {
    auto frame = std::make_unique<FrameInstance>();
    frame->info = &exec_.frames_[frame_id];
    frame->parent = parent;
    frame->parent_iter = parent_iter;
    frame->pending_enters = frame->info->num_enters;
    frame->iterations[0] = NewIteration(*frame->info, true);
    return frame;
  }

  static std::unique_ptr<IterationState> NewIteration(const FrameInfo& info, bool first) {
    return std::make_unique<IterationState>(info.num_nodes, info.num_input_slots,
                                            first ? info.pending_first : info.pending_next);
  }

  void Dispatch(absl::Span<const TaggedNode> ready) {
    absl::InlinedVector<TaggedNode, 16> local;
    size_t head = 0;
    bool kept_expensive = false;
    for (const TaggedNode& t : ready) {
      const bool expensive = exec_.items_[t.item].expensive;
      if (expensive && args_.pool != nullptr && kept_expensive) {
        Schedule(t);
      } else {
        kept_expensive |= expensive;
        local.push_back(t);
      }
    }
    while (head < local.size()) {
      TaggedNode t = local[head++];
      Ready next = Process(t);
      bool kept = false;
      for (const TaggedNode& n : next) {
        const bool expensive = exec_.items_[n.item].expensive;
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

  void Schedule(TaggedNode t) {
    args_.pool->Schedule([self = shared_from_this(), t] { self->Dispatch({&t, 1}); });
  }

  void Release() {
    if (outstanding_.fetch_sub(1, std::memory_order_acq_rel) == 1) done_.Notify();
  }

  bool Failed() const { return failed_.load(std::memory_order_acquire); }

  void Fail(absl::Status status) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    FailLocked(std::move(status));
  }
  void FailLocked(absl::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (status_.ok()) status_ = std::move(status);
    failed_.store(true, std::memory_order_release);
  }

  // Cancellation, session close and the deadline, checked before every node (so a loop that
  // never ends stops too).
  absl::Status CheckAlive(const Node& node) const {
    if (args_.cancelled != nullptr && args_.cancelled->load(std::memory_order_relaxed)) {
      return absl::CancelledError(
          absl::StrCat("step was cancelled before node ", node.DebugName(), " could run"));
    }
    if (args_.session_closing != nullptr &&
        args_.session_closing->load(std::memory_order_relaxed)) {
      return absl::CancelledError("session was closed while the step ran");
    }
    if (args_.deadline != absl::InfiniteFuture() && absl::Now() > args_.deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("step timed out before node ", node.DebugName(), " could run"));
    }
    return absl::OkStatus();
  }

  // Computes one node of one iteration and returns the nodes it made ready, already counted
  // in outstanding_.
  Ready Process(const TaggedNode& t) {
    const NodeItem& item = exec_.items_[t.item];
    const int64_t start_ns = args_.stats != nullptr ? absl::GetCurrentTimeNanos() : 0;
    if (Failed()) return {};
    if (absl::Status s = CheckAlive(*item.node); !s.ok()) {
      Fail(std::move(s));
      return {};
    }
    Outputs inputs(item.num_inputs);
    bool dead = false;
    {
      absl::MutexLock lock(&mu_);
      IterationState* iter = t.frame->iterations.at(t.iter).get();
      Tensor* slots = &iter->slots[item.local_input_start];
      if (item.is_merge) {
        const int live = iter->merge_input[item.local_id];
        dead = live < 0;
        if (!dead) inputs[live] = std::move(slots[live]);
      } else {
        dead = iter->dead[item.local_id] != 0;
        if (!dead) {
          for (int i = 0; i < item.num_inputs; ++i) inputs[i] = std::move(slots[i]);
        }
      }
    }
    Outputs outputs(item.num_outputs);
    int64_t op_start_ns = 0, op_end_ns = 0;
    if (!dead) {
      KernelContext ctx(exec_.device_, args_.frame, inputs.data(), item.num_inputs,
                        outputs.data(), item.num_outputs);
      if (args_.stats != nullptr) op_start_ns = absl::GetCurrentTimeNanos();
      absl::Status s = item.kernel->Compute(&ctx);
      if (args_.stats != nullptr) op_end_ns = absl::GetCurrentTimeNanos();
      inputs.clear();
      if (!s.ok()) {
        Fail(absl::Status(s.code(), absl::StrCat("node ", item.node->DebugName(), ": ",
                                                 s.message())));
        return {};
      }
    }
    Ready ready;
    {
      absl::MutexLock lock(&mu_);
      if (!Propagate(t, dead, outputs.data(), &ready)) return {};
      IterationState* iter = t.frame->iterations.at(t.iter).get();
      --iter->outstanding_ops;
      CleanupIterations(t.frame, t.iter, &ready);
      outstanding_.fetch_add(static_cast<int>(ready.size()), std::memory_order_relaxed);
    }
    if (args_.stats != nullptr && !dead) {
      RecordNodeStats(args_.stats, item, outputs.data(), start_ns, op_start_ns, op_end_ns);
    }
    return ready;
  }

  // Sends node t's outputs where its op says. False (with the step failed) on error.
  bool Propagate(const TaggedNode& t, bool dead, const Tensor* outputs, Ready* ready)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const NodeItem& item = exec_.items_[t.item];
    FrameInstance* frame = t.frame;
    if (item.is_enter) {
      FrameInstance* child = FindOrCreateChild(frame, t.iter, item.child_frame);
      bool ok = true;
      if (item.is_constant_enter) {
        child->invariants.push_back({t.item, dead ? Tensor() : outputs[0], dead});
        for (auto& [n, unused] : child->iterations) {
          ok = ok && ActivateEdges(item, child, n, outputs, dead, ready);
        }
      } else {
        ok = ActivateEdges(item, child, 0, outputs, dead, ready);
      }
      --child->pending_enters;
      // Every entry may have arrived with nothing left to run (a loop entered dead).
      CleanupIterations(child, 0, ready);
      return ok;
    }
    if (item.is_exit) {
      if (dead) {
        if (t.iter == frame->iteration_count) frame->dead_exits.push_back(t.item);
        return true;
      }
      return ActivateEdges(item, frame->parent, frame->parent_iter, outputs, false, ready);
    }
    if (item.is_next_iteration) {
      if (dead) return true;  // the loop variable's chain ends: this is how a loop stops
      if (t.iter == frame->iteration_count &&
          frame->outstanding_iterations >= frame->info->parallel_iterations) {
        frame->deferred.emplace_back(t.item, outputs[0]);
        return true;
      }
      if (t.iter == frame->iteration_count) StartIteration(frame, ready);
      return ActivateEdges(item, frame, t.iter + 1, outputs, false, ready);
    }
    return ActivateEdges(item, frame, t.iter, outputs, dead, ready);
  }

  // Delivers item's outputs (or deadness) along its out edges into (frame, iter).
  bool ActivateEdges(const NodeItem& item, FrameInstance* frame, int64_t iter_id,
                     const Tensor* outputs, bool dead, Ready* ready)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    IterationState* iter = frame->iterations.at(iter_id).get();
    for (const OutEdge& e : item.out_edges) {
      const NodeItem& dst = exec_.items_[e.dst];
      bool edge_dead = dead;
      int input = -1;
      if (e.dst_slot >= 0) {
        input = e.dst_slot - dst.input_start;
        if (!dead) {
          const Tensor& out = outputs[e.src_output];
          if (!out.IsInitialized()) {
            if (!item.unset_outputs_are_dead) {
              FailLocked(absl::InternalError(absl::StrCat("node ", item.node->DebugName(),
                                                          ": kernel did not produce output ",
                                                          e.src_output)));
              return false;
            }
            edge_dead = true;
          } else {
            iter->slots[dst.local_input_start + input] = out;
          }
        }
      }
      int& pending = iter->pending[dst.local_id];
      bool now_ready;
      if (dst.is_merge) {
        int& merge_input = iter->merge_input[dst.local_id];
        bool fire = false;
        if (input >= 0 && !edge_dead && merge_input < 0) {
          merge_input = input;
          fire = true;
        }
        --pending;
        now_ready = fire || (pending == 0 && merge_input < 0);
      } else {
        if (edge_dead) iter->dead[dst.local_id] = 1;
        now_ready = --pending == 0;
      }
      if (now_ready) {
        ++iter->outstanding_ops;
        ready->push_back({e.dst, frame, iter_id});
      }
    }
    return true;
  }

  FrameInstance* FindOrCreateChild(FrameInstance* frame, int64_t iter, int frame_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::unique_ptr<FrameInstance>& child = frame->children[{iter, frame_id}];
    if (child == nullptr) {
      child = NewFrame(frame_id, frame, iter);
      ++frame->iterations.at(iter)->outstanding_frames;
    }
    return child.get();
  }

  void StartIteration(FrameInstance* frame, Ready* ready) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const int64_t n = ++frame->iteration_count;
    ++frame->outstanding_iterations;
    frame->iterations[n] = NewIteration(*frame->info, false);
    // Dead exits of the previous iteration were ordinary loop steps, not the loop's end.
    frame->dead_exits.clear();
    for (const FrameInstance::Invariant& inv : frame->invariants) {
      ActivateEdges(exec_.items_[inv.item], frame, n, &inv.value, inv.dead, ready);
    }
  }

  bool IterationDone(FrameInstance* frame, int64_t iter_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const IterationState* iter = frame->iterations.at(iter_id).get();
    if (iter->outstanding_ops > 0 || iter->outstanding_frames > 0) return false;
    // Iteration 0 may still receive loop invariants; a later one waits for its predecessor.
    if (iter_id == 0) return frame->pending_enters == 0;
    return frame->iterations.count(iter_id - 1) == 0;
  }

  // Retires finished iterations from iter_id on, starts held-back ones, and finishes the frame
  // when nothing of it is left.
  void CleanupIterations(FrameInstance* frame, int64_t iter_id, Ready* ready)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    while (frame->iterations.count(iter_id) > 0 && IterationDone(frame, iter_id)) {
      frame->iterations.erase(iter_id);
      --frame->outstanding_iterations;
      if (!frame->deferred.empty()) {
        StartIteration(frame, ready);
        std::vector<std::pair<int, Tensor>> deferred = std::move(frame->deferred);
        frame->deferred.clear();
        for (const auto& [item, value] : deferred) {
          ActivateEdges(exec_.items_[item], frame, frame->iteration_count, &value, false, ready);
        }
      }
      ++iter_id;
    }
    if (frame->outstanding_iterations == 0 && frame->pending_enters == 0 &&
        frame->parent != nullptr) {
      FinishFrame(frame, ready);
    }
  }

  void FinishFrame(FrameInstance* frame, Ready* ready) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    FrameInstance* parent = frame->parent;
    const int64_t parent_iter = frame->parent_iter;
    for (int k : frame->dead_exits) {
      ActivateEdges(exec_.items_[k], parent, parent_iter, nullptr, true, ready);
    }
    --parent->iterations.at(parent_iter)->outstanding_frames;
    const int frame_id = static_cast<int>(frame->info - exec_.frames_.data());
    parent->children.erase({parent_iter, frame_id});  // destroys frame
    CleanupIterations(parent, parent_iter, ready);
  }

  const Executor& exec_;
  const StepArgs& args_;
  std::atomic<int> outstanding_{0};
  absl::Notification done_;
  std::atomic<bool> failed_{false};
  absl::Mutex mu_;
  std::unique_ptr<FrameInstance> root_ ABSL_GUARDED_BY(mu_);
  absl::Status status_ ABSL_GUARDED_BY(mu_);
};

absl::Status Executor::RunWithFrames(const StepArgs& args) const {
  auto state = std::make_shared<FrameStepState>(*this, args);
  return state->Run();
}

}  // namespace weir
