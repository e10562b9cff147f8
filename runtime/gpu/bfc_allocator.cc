// bfc_allocator.cc - Best-fit-with-coalescing allocator: bins, splitting, coalescing, regions.
#include "runtime/gpu/bfc_allocator.h"

#include <algorithm>
#include <cstdlib>
#include <limits>

#include "absl/base/internal/raw_logging.h"
#include "absl/strings/str_cat.h"

namespace weir {

void* HostSubAllocator::Alloc(size_t bytes) {
  if (bytes == 0) return nullptr;
  // aligned_alloc wants a size that is a multiple of the alignment; BFC regions always are.
  size_t rounded = (bytes + BfcAllocator::kMinAllocationSize - 1) &
                   ~(BfcAllocator::kMinAllocationSize - 1);
  return std::aligned_alloc(BfcAllocator::kMinAllocationSize, rounded);
}

void HostSubAllocator::Free(void* ptr, size_t) { std::free(ptr); }

size_t BfcAllocator::RoundedBytes(size_t bytes) {
  if (bytes <= kMinAllocationSize) return kMinAllocationSize;
  if (bytes > std::numeric_limits<size_t>::max() - kMinAllocationSize) return 0;  // overflow
  return (bytes + kMinAllocationSize - 1) & ~(kMinAllocationSize - 1);
}

int BfcAllocator::BinIndex(size_t bytes) {
  size_t units = bytes / kMinAllocationSize;  // >= 1
  int index = 0;
  while (units > 1 && index < kNumBins - 1) {
    units >>= 1;
    ++index;
  }
  return index;
}

BfcAllocator::BfcAllocator(std::unique_ptr<SubAllocator> sub_allocator, const Options& options,
                           std::string name)
    : sub_allocator_(std::move(sub_allocator)),
      name_(std::move(name)),
      memory_limit_(options.memory_limit & ~(kMinAllocationSize - 1)) {
  absl::MutexLock lock(&mu_);
  next_region_bytes_ = std::min(RoundedBytes(std::max<size_t>(options.initial_region_bytes, 1)),
                                std::max(memory_limit_, kMinAllocationSize));
  stats_.bytes_limit = static_cast<int64_t>(memory_limit_);
}

BfcAllocator::~BfcAllocator() {
  absl::MutexLock lock(&mu_);
  if (!live_.empty()) {
    ABSL_RAW_LOG(ERROR, "%s destroyed with %zu live allocations (%lld bytes); releasing them",
                 name_.c_str(), live_.size(), static_cast<long long>(stats_.bytes_in_use));
  }
  for (Region& r : regions_) {
    if (r.base != nullptr) sub_allocator_->Free(r.base, r.bytes);
    r.base = nullptr;
  }
}

BfcAllocator::ChunkHandle BfcAllocator::NewChunk() {
  if (!free_handles_.empty()) {
    ChunkHandle h = free_handles_.back();
    free_handles_.pop_back();
    chunks_[h] = Chunk();
    return h;
  }
  chunks_.emplace_back();
  return static_cast<ChunkHandle>(chunks_.size() - 1);
}

void BfcAllocator::DeleteChunk(ChunkHandle h) {
  chunks_[h] = Chunk();
  free_handles_.push_back(h);
}

void BfcAllocator::InsertFree(ChunkHandle h) {
  const Chunk& c = chunks_[h];
  bins_[BinIndex(c.size)].insert(BinEntry{c.size, c.ptr, h});
}

void BfcAllocator::RemoveFree(ChunkHandle h) {
  const Chunk& c = chunks_[h];
  size_t erased = bins_[BinIndex(c.size)].erase(BinEntry{c.size, c.ptr, h});
  ABSL_RAW_CHECK(erased == 1, "free chunk missing from its bin");
}

void BfcAllocator::MergeWithNext(ChunkHandle h) {
  ChunkHandle n = chunks_[h].next;
  Chunk& c = chunks_[h];
  const Chunk& next = chunks_[n];
  c.size += next.size;
  c.next = next.next;
  if (c.next != kNoChunk) chunks_[c.next].prev = h;
  DeleteChunk(n);
}

BfcAllocator::ChunkHandle BfcAllocator::FindFreeChunk(size_t rounded) {
  for (int b = BinIndex(rounded); b < kNumBins; ++b) {
    auto it = bins_[b].lower_bound(BinEntry{rounded, 0, kNoChunk});
    if (it == bins_[b].end()) continue;
    ChunkHandle h = it->handle;
    bins_[b].erase(it);
    // Split off the tail when it can hold an allocation of its own.
    if (chunks_[h].size - rounded >= kMinAllocationSize) {
      ChunkHandle tail = NewChunk();  // may reallocate chunks_: index, do not hold references
      Chunk& c = chunks_[h];
      Chunk& t = chunks_[tail];
      t.ptr = c.ptr + rounded;
      t.size = c.size - rounded;
      t.region = c.region;
      t.prev = h;
      t.next = c.next;
      if (c.next != kNoChunk) chunks_[c.next].prev = tail;
      c.next = tail;
      c.size = rounded;
      InsertFree(tail);
    }
    return h;
  }
  return kNoChunk;
}

bool BfcAllocator::Extend(size_t rounded) {
  size_t reserved = static_cast<size_t>(stats_.bytes_reserved);
  size_t available = memory_limit_ > reserved ? memory_limit_ - reserved : 0;
  if (rounded > available) return false;
  size_t bytes = next_region_bytes_;
  while (bytes < rounded) bytes *= 2;
  bytes = std::min(bytes, available);
  // The sub-allocator may have less than the limit promises (other processes on the GPU):
  // try smaller regions, down to the request itself.
  void* base = sub_allocator_->Alloc(bytes);
  while (base == nullptr && bytes > rounded) {
    // Rounded down, so each try is strictly smaller and the loop ends.
    bytes = std::max(rounded, (bytes / 10 * 9) & ~(kMinAllocationSize - 1));
    base = sub_allocator_->Alloc(bytes);
  }
  if (base == nullptr) return false;
  if (reinterpret_cast<uintptr_t>(base) % kMinAllocationSize != 0) {
    ABSL_RAW_LOG(ERROR, "%s: %s sub-allocator returned memory not aligned to %zu bytes",
                 name_.c_str(), sub_allocator_->Name().c_str(), kMinAllocationSize);
    sub_allocator_->Free(base, bytes);
    return false;
  }
  int32_t region = -1;
  for (size_t i = 0; i < regions_.size(); ++i) {
    if (regions_[i].base == nullptr) {
      region = static_cast<int32_t>(i);
      break;
    }
  }
  if (region < 0) {
    regions_.emplace_back();
    region = static_cast<int32_t>(regions_.size() - 1);
  }
  regions_[region] = Region{base, bytes};
  stats_.bytes_reserved += static_cast<int64_t>(bytes);
  stats_.num_regions += 1;
  // Double for next time, so a growing workload needs O(log) regions.
  if (bytes >= next_region_bytes_) {
    next_region_bytes_ = bytes <= std::numeric_limits<size_t>::max() / 2 ? bytes * 2 : bytes;
  }
  ChunkHandle h = NewChunk();
  Chunk& c = chunks_[h];
  c.ptr = reinterpret_cast<uintptr_t>(base);
  c.size = bytes;
  c.region = region;
  InsertFree(h);
  return true;
}

void* BfcAllocator::AllocateRaw(size_t bytes, bool may_release_regions) {
  size_t rounded = RoundedBytes(bytes);
  absl::MutexLock lock(&mu_);
  if (rounded == 0 || rounded > memory_limit_) {
    stats_.num_failed_allocs += 1;
    return nullptr;
  }
  ChunkHandle h = FindFreeChunk(rounded);
  if (h == kNoChunk && Extend(rounded)) h = FindFreeChunk(rounded);
  if (h == kNoChunk && may_release_regions && ReleaseFreeRegionsLocked() > 0 &&
      Extend(rounded)) {
    h = FindFreeChunk(rounded);
  }
  if (h == kNoChunk) {
    stats_.num_failed_allocs += 1;
    return nullptr;
  }
  Chunk& c = chunks_[h];
  c.in_use = true;
  c.requested = bytes;
  live_[c.ptr] = h;
  stats_.bytes_in_use += static_cast<int64_t>(c.size);
  stats_.peak_bytes_in_use = std::max(stats_.peak_bytes_in_use, stats_.bytes_in_use);
  stats_.num_allocs += 1;
  stats_.largest_alloc = std::max(stats_.largest_alloc, static_cast<int64_t>(c.size));
  return reinterpret_cast<void*>(c.ptr);
}

void BfcAllocator::DeallocateRaw(void* ptr) {
  if (ptr == nullptr) return;
  absl::MutexLock lock(&mu_);
  auto it = live_.find(reinterpret_cast<uintptr_t>(ptr));
  if (it == live_.end()) {
    ABSL_RAW_LOG(ERROR, "%s: DeallocateRaw(%p) of a pointer it does not hold; ignored",
                 name_.c_str(), ptr);
    return;
  }
  ChunkHandle h = it->second;
  live_.erase(it);
  Chunk& c = chunks_[h];
  c.in_use = false;
  c.requested = 0;
  stats_.bytes_in_use -= static_cast<int64_t>(c.size);
  // Coalesce with free neighbours.
  ChunkHandle next = c.next;
  if (next != kNoChunk && !chunks_[next].in_use) {
    RemoveFree(next);
    MergeWithNext(h);
  }
  ChunkHandle prev = chunks_[h].prev;
  if (prev != kNoChunk && !chunks_[prev].in_use) {
    RemoveFree(prev);
    MergeWithNext(prev);
    h = prev;
  }
  InsertFree(h);
}

size_t BfcAllocator::AllocatedSize(const void* ptr) const {
  absl::MutexLock lock(&mu_);
  auto it = live_.find(reinterpret_cast<uintptr_t>(ptr));
  return it == live_.end() ? 0 : chunks_[it->second].size;
}

size_t BfcAllocator::RequestedSize(const void* ptr) const {
  absl::MutexLock lock(&mu_);
  auto it = live_.find(reinterpret_cast<uintptr_t>(ptr));
  return it == live_.end() ? 0 : chunks_[it->second].requested;
}

BfcStats BfcAllocator::GetStats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

void BfcAllocator::ResetPeak() {
  absl::MutexLock lock(&mu_);
  stats_.peak_bytes_in_use = stats_.bytes_in_use;
}

size_t BfcAllocator::ReleaseFreeRegions() {
  absl::MutexLock lock(&mu_);
  return ReleaseFreeRegionsLocked();
}

size_t BfcAllocator::ReleaseFreeRegionsLocked() {
  // A free chunk with no neighbours spans its whole region.
  std::vector<ChunkHandle> whole;
  for (const auto& bin : bins_) {
    for (const BinEntry& e : bin) {
      const Chunk& c = chunks_[e.handle];
      if (c.prev == kNoChunk && c.next == kNoChunk) whole.push_back(e.handle);
    }
  }
  size_t released = 0;
  for (ChunkHandle h : whole) {
    RemoveFree(h);
    Region& r = regions_[chunks_[h].region];
    sub_allocator_->Free(r.base, r.bytes);
    released += r.bytes;
    stats_.bytes_reserved -= static_cast<int64_t>(r.bytes);
    stats_.num_regions -= 1;
    r = Region();
    DeleteChunk(h);
  }
  return released;
}

int64_t BfcAllocator::NumFreeChunks() const {
  absl::MutexLock lock(&mu_);
  int64_t n = 0;
  for (const auto& bin : bins_) n += static_cast<int64_t>(bin.size());
  return n;
}

bool BfcAllocator::CheckInvariants(std::string* why) const {
  absl::MutexLock lock(&mu_);
  auto fail = [why](std::string message) {
    if (why != nullptr) *why = std::move(message);
    return false;
  };
  // Walk each region from its first chunk: the chunk whose address is the region's base.
  absl::flat_hash_map<uintptr_t, ChunkHandle> by_address;
  int64_t live_chunks = 0;
  for (size_t h = 0; h < chunks_.size(); ++h) {
    if (chunks_[h].size == 0) continue;  // recycled slot
    by_address[chunks_[h].ptr] = static_cast<ChunkHandle>(h);
  }
  int64_t free_seen = 0;
  int64_t in_use_bytes = 0;
  int64_t reserved = 0;
  for (size_t r = 0; r < regions_.size(); ++r) {
    const Region& region = regions_[r];
    if (region.base == nullptr) continue;
    reserved += static_cast<int64_t>(region.bytes);
    auto first = by_address.find(reinterpret_cast<uintptr_t>(region.base));
    if (first == by_address.end()) return fail(absl::StrCat("region ", r, " has no first chunk"));
    uintptr_t expect = reinterpret_cast<uintptr_t>(region.base);
    ChunkHandle prev = kNoChunk;
    bool prev_free = false;
    for (ChunkHandle h = first->second; h != kNoChunk; h = chunks_[h].next) {
      const Chunk& c = chunks_[h];
      if (c.prev != prev) return fail(absl::StrCat("chunk ", h, " has a wrong prev link"));
      if (c.ptr != expect) return fail(absl::StrCat("gap or overlap at chunk ", h));
      if (c.region != static_cast<int32_t>(r)) return fail("chunk in the wrong region");
      if (c.size == 0 || c.size % kMinAllocationSize != 0) return fail("bad chunk size");
      if (c.ptr % kMinAllocationSize != 0) return fail("misaligned chunk");
      if (c.in_use) {
        in_use_bytes += static_cast<int64_t>(c.size);
        auto it = live_.find(c.ptr);
        if (it == live_.end() || it->second != h) return fail("live chunk not in the live map");
        ++live_chunks;
        prev_free = false;
      } else {
        if (prev_free) return fail(absl::StrCat("two free neighbours at chunk ", h));
        if (bins_[BinIndex(c.size)].count(BinEntry{c.size, c.ptr, h}) != 1) {
          return fail(absl::StrCat("free chunk ", h, " missing from bin ", BinIndex(c.size)));
        }
        ++free_seen;
        prev_free = true;
      }
      expect = c.ptr + c.size;
      prev = h;
    }
    if (expect != reinterpret_cast<uintptr_t>(region.base) + region.bytes) {
      return fail(absl::StrCat("region ", r, " chunks do not end at the region's end"));
    }
  }
  int64_t binned = 0;
  for (const auto& bin : bins_) binned += static_cast<int64_t>(bin.size());
  if (binned != free_seen) return fail("bins hold chunks no region reaches");
  if (live_chunks != static_cast<int64_t>(live_.size())) return fail("live map has extras");
  if (in_use_bytes != stats_.bytes_in_use) return fail("bytes_in_use disagrees with chunks");
  if (reserved != stats_.bytes_reserved) return fail("bytes_reserved disagrees with regions");
  if (stats_.bytes_reserved > static_cast<int64_t>(memory_limit_)) return fail("over limit");
  return true;
}

absl::Status OutOfMemoryError(absl::string_view device_name, size_t bytes,
                              absl::string_view node_name, absl::string_view op,
                              const BfcStats& stats) {
  return absl::ResourceExhaustedError(absl::StrCat(
      "out of memory on ", device_name, " allocating ", bytes, " bytes for node '", node_name,
      "' (", op, "): in use ", stats.bytes_in_use, " of limit ", stats.bytes_limit));
}

}  // namespace weir
