// thread_pool.h - A fixed-size pool of worker threads running tasks in FIFO order.
//
// Tasks are absl::AnyInvocable: a callable of up to two words that moves without throwing (the
// executor's {step, node} tasks) is stored inline, so scheduling it allocates nothing; larger
// callables are boxed on the heap. The queue is a ring buffer that grows to the deepest queue
// seen and never shrinks, so a steady-state workload schedules without touching the system
// allocator.
//
// A pool may serve many sessions at once (SessionOptions::inter_op_pool): tasks of different
// owners interleave in one FIFO.
#ifndef WEIR_RUNTIME_THREAD_POOL_H_
#define WEIR_RUNTIME_THREAD_POOL_H_

#include <string>
#include <thread>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"

namespace weir {

class ThreadPool {
 public:
  using Task = absl::AnyInvocable<void()>;

  // `num_threads` >= 1.
  ThreadPool(std::string name, int num_threads);
  // Runs every task already scheduled, then joins the workers.
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  void Schedule(Task task);
  // Runs the oldest queued task on the calling thread; false when none is queued. A thread
  // waiting for scheduled work calls this so the work never waits for a worker to be given a
  // core (on a busy machine a wakeup can take a scheduler quantum, milliseconds).
  bool TryRunOne();
  int num_threads() const { return static_cast<int>(workers_.size()); }
  // True when called from one of this pool's workers.
  bool IsWorkerThread() const;
  const std::string& name() const { return name_; }

 private:
  void WorkerLoop();
  // Takes the oldest task; the queue must not be empty.
  Task PopLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::string name_;
  absl::Mutex mu_;
  // Ring buffer: `size_` tasks from `head_`, capacity a power of two.
  std::vector<Task> ring_ ABSL_GUARDED_BY(mu_);
  size_t head_ ABSL_GUARDED_BY(mu_) = 0;
  size_t size_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace weir

#endif  // WEIR_RUNTIME_THREAD_POOL_H_
