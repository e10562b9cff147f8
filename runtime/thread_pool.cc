// thread_pool.cc - A fixed-size worker pool over a growing ring buffer of tasks.
#include "runtime/thread_pool.h"

#include <utility>

namespace weir {
namespace {
thread_local const ThreadPool* current_pool = nullptr;
// Enough for the executor's usual fan-out without growing.
constexpr size_t kInitialCapacity = 64;
}  // namespace

ThreadPool::ThreadPool(std::string name, int num_threads) : name_(std::move(name)) {
  if (num_threads < 1) num_threads = 1;
  {
    absl::MutexLock lock(&mu_);
    ring_.resize(kInitialCapacity);
  }
  workers_.reserve(num_threads);
  for (int i = 0; i < num_threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::Schedule(Task task) {
  absl::MutexLock lock(&mu_);
  if (size_ == ring_.size()) {
    // Full: unroll into a buffer twice the size (rare; the ring keeps its high-water mark).
    std::vector<Task> bigger(ring_.size() * 2);
    for (size_t i = 0; i < size_; ++i) bigger[i] = std::move(ring_[(head_ + i) & (ring_.size() - 1)]);
    ring_.swap(bigger);
    head_ = 0;
  }
  ring_[(head_ + size_) & (ring_.size() - 1)] = std::move(task);
  ++size_;
}

ThreadPool::Task ThreadPool::PopLocked() {
  Task task = std::move(ring_[head_]);
  ring_[head_] = nullptr;
  head_ = (head_ + 1) & (ring_.size() - 1);
  --size_;
  return task;
}

bool ThreadPool::TryRunOne() {
  Task task;
  {
    absl::MutexLock lock(&mu_);
    if (size_ == 0) return false;
    task = PopLocked();
  }
  task();
  return true;
}

bool ThreadPool::IsWorkerThread() const { return current_pool == this; }

void ThreadPool::WorkerLoop() {
  current_pool = this;
  while (true) {
    Task task;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](ThreadPool* pool) ABSL_EXCLUSIVE_LOCKS_REQUIRED(pool->mu_) {
            return pool->stopping_ || pool->size_ > 0;
          },
          this));
      if (size_ == 0) return;  // stopping and drained
      task = PopLocked();
    }
    task();
  }
}

}  // namespace weir
