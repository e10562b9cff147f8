// allocator.cc - The caching host allocator.
#include "runtime/allocator.h"

#include <sys/mman.h>

#include <cstdlib>
#include <thread>

namespace weir {
namespace {
constexpr size_t kHugePageBytes = size_t{2} << 20;
constexpr size_t kHugePageThreshold = size_t{4} << 20;
// Bytes each small size may keep cached.
constexpr size_t kMaxCachedPerSmallSize = size_t{16} << 20;

void*& NextOf(void* block) { return *static_cast<void**>(block); }
}  // namespace

CpuAllocator* CpuAllocator::Get() {
  // Never destroyed: tensors may be released during static destruction and thread exit.
  static CpuAllocator* allocator = new CpuAllocator;
  return allocator;
}

size_t CpuAllocator::RoundedSize(size_t bytes) {
  // aligned_alloc needs a multiple of the alignment; large blocks round to whole huge pages.
  if (bytes >= kHugePageThreshold) return (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  size_t rounded = (bytes + kTensorAlignment - 1) / kTensorAlignment * kTensorAlignment;
  return rounded == 0 ? kTensorAlignment : rounded;
}

void CpuAllocator::SmallList::Lock() {
  // Held for a few instructions; yield rather than spin if the holder was preempted.
  for (int spins = 0; locked.exchange(true, std::memory_order_acquire); ++spins) {
    while (locked.load(std::memory_order_relaxed)) {
      if (++spins > 64) std::this_thread::yield();
    }
  }
}

void CpuAllocator::CountAllocation(size_t bytes) {
  const int64_t now =
      bytes_in_use_.fetch_add(static_cast<int64_t>(bytes), std::memory_order_relaxed) +
      static_cast<int64_t>(bytes);
  int64_t peak = peak_bytes_.load(std::memory_order_relaxed);
  while (now > peak && !peak_bytes_.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
  }
}

void* CpuAllocator::Allocate(size_t bytes) {
  const size_t rounded = RoundedSize(bytes);
  void* ptr = nullptr;
  if (rounded <= kSmallBlockMax) {
    SmallList& list = small_[rounded / kTensorAlignment - 1];
    list.Lock();
    ptr = list.head;
    if (ptr != nullptr) {
      list.head = NextOf(ptr);
      list.bytes -= rounded;
    }
    list.Unlock();
  } else {
    absl::MutexLock lock(&mu_);
    auto it = free_lists_.find(rounded);
    if (it != free_lists_.end() && !it->second.empty()) {
      ptr = it->second.back();
      it->second.pop_back();
      cached_bytes_ -= rounded;
    }
  }
  if (ptr == nullptr) {
    const size_t alignment = rounded >= kHugePageThreshold ? kHugePageBytes : kTensorAlignment;
    ptr = std::aligned_alloc(alignment, rounded);
    if (ptr == nullptr) return nullptr;
    if (rounded >= kHugePageThreshold) madvise(ptr, rounded, MADV_HUGEPAGE);
    num_system_allocations_.fetch_add(1, std::memory_order_relaxed);
  }
  CountAllocation(bytes);
  return ptr;
}

void CpuAllocator::Deallocate(void* ptr, size_t bytes) {
  if (ptr == nullptr) return;
  bytes_in_use_.fetch_sub(static_cast<int64_t>(bytes), std::memory_order_relaxed);
  const size_t rounded = RoundedSize(bytes);
  if (rounded <= kSmallBlockMax) {
    SmallList& list = small_[rounded / kTensorAlignment - 1];
    list.Lock();
    const bool keep = list.bytes + rounded <= kMaxCachedPerSmallSize;
    if (keep) {
      NextOf(ptr) = list.head;
      list.head = ptr;
      list.bytes += rounded;
    }
    list.Unlock();
    if (!keep) std::free(ptr);
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    if (cached_bytes_ + rounded <= kMaxCachedBytes) {
      free_lists_[rounded].push_back(ptr);
      cached_bytes_ += rounded;
      return;
    }
  }
  std::free(ptr);
}

void CpuAllocator::ReleaseCached() {
  for (SmallList& list : small_) {
    list.Lock();
    void* chain = list.head;
    list.head = nullptr;
    list.bytes = 0;
    list.Unlock();
    while (chain != nullptr) {
      void* next = NextOf(chain);
      std::free(chain);
      chain = next;
    }
  }
  absl::flat_hash_map<size_t, std::vector<void*>> lists;
  {
    absl::MutexLock lock(&mu_);
    lists.swap(free_lists_);
    cached_bytes_ = 0;
  }
  for (auto& [size, blocks] : lists) {
    for (void* ptr : blocks) std::free(ptr);
  }
}

int64_t CpuAllocator::cached_bytes() const {
  int64_t total = 0;
  for (const SmallList& list : small_) {
    SmallList& l = const_cast<SmallList&>(list);
    l.Lock();
    total += static_cast<int64_t>(l.bytes);
    l.Unlock();
  }
  absl::MutexLock lock(&mu_);
  return total + static_cast<int64_t>(cached_bytes_);
}

}  // namespace weir
