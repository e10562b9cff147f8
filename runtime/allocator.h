// allocator.h - Memory for tensor buffers. Every buffer is 64-byte aligned (oneDNN and AVX-512
// friendly).
#ifndef WEIR_RUNTIME_ALLOCATOR_H_
#define WEIR_RUNTIME_ALLOCATOR_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace weir {

inline constexpr size_t kTensorAlignment = 64;

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual std::string Name() const = 0;
  // Returns nullptr when out of memory. `bytes` may be 0.
  virtual void* Allocate(size_t bytes) = 0;
  virtual void Deallocate(void* ptr, size_t bytes) = 0;
};

// The process-wide host allocator. Freed blocks are kept in per-size free lists and handed out
// again, so steady-state runs with fixed shapes neither call the system allocator for tensors
// nor touch fresh pages (first touch of a 4 KiB page costs ~11 us on these machines, see
// BUILDING.md). Blocks of 4 MiB and more are 2 MiB aligned and advised to use huge pages.
// The cache is bounded (kMaxCachedBytes); ReleaseCached returns it to the system.
//
// Blocks up to kSmallBlockMax (the small tensors of shape arithmetic, scalars, elementwise
// chains on short vectors) sit on one intrusive stack per 64-byte size, under a spinlock held
// for a pointer swap: no hash lookup, no mutex. On the 2,000-node AddV2 chain the mutex and map
// path was a third of the per-node time. The lists are shared by all threads (no per-thread
// cache that could strand blocks on a thread that does not need them), so whatever any thread
// freed is there for the next request.
class CpuAllocator : public Allocator {
 public:
  static constexpr size_t kMaxCachedBytes = size_t{1} << 30;
  static constexpr size_t kSmallBlockMax = 4096;

  static CpuAllocator* Get();
  std::string Name() const override { return "cpu"; }
  void* Allocate(size_t bytes) override;
  void Deallocate(void* ptr, size_t bytes) override;
  // Frees every cached block.
  void ReleaseCached();

  int64_t bytes_in_use() const { return bytes_in_use_.load(); }
  int64_t peak_bytes_in_use() const { return peak_bytes_.load(); }
  // Blocks obtained from the system (cache misses).
  int64_t num_system_allocations() const { return num_system_allocations_.load(); }
  int64_t cached_bytes() const;

 private:
  // Free small blocks of one size; the link to the next lives in the free block itself.
  struct SmallList {
    std::atomic<bool> locked{false};
    void* head = nullptr;
    size_t bytes = 0;
    void Lock();
    void Unlock() { locked.store(false, std::memory_order_release); }
  };
  static constexpr int kSmallClasses = static_cast<int>(kSmallBlockMax / kTensorAlignment);

  static size_t RoundedSize(size_t bytes);
  void CountAllocation(size_t bytes);

  std::atomic<int64_t> bytes_in_use_{0};
  std::atomic<int64_t> peak_bytes_{0};
  std::atomic<int64_t> num_system_allocations_{0};
  mutable absl::Mutex mu_;
  absl::flat_hash_map<size_t, std::vector<void*>> free_lists_ ABSL_GUARDED_BY(mu_);
  size_t cached_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  // Index (rounded / 64 - 1) for blocks up to kSmallBlockMax.
  SmallList small_[kSmallClasses];
};

}  // namespace weir

#endif  // WEIR_RUNTIME_ALLOCATOR_H_
