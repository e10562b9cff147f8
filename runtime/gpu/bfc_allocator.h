// bfc_allocator.h - Best-fit-with-coalescing memory allocator (after TensorFlow's BFC) over a
// SubAllocator that hands out large regions: device memory through cudaMalloc, pinned host
// memory through cudaHostAlloc, or plain host memory in tests.
//
// Why: cudaMalloc/cudaFree synchronize the device and cost tens of microseconds, so a GPU
// runtime asks the driver for few large regions and carves tensors out of them itself. The
// allocator is pure C++ (no CUDA), never touches the memory it manages (device memory must not
// be dereferenced on the host), and is tested on the CPU with a host sub-allocator.
//
// How it carves:
//   - Every request is rounded up to a multiple of 256 bytes (kMinAllocationSize), so every
//     pointer handed out is 256-byte aligned as long as regions are (cudaMalloc's are).
//   - A region is a list of chunks in address order, each free or in use. Free chunks sit in
//     size-class bins, bin i holding sizes in [256 << i, 256 << (i + 1)) (the last bin holds
//     everything bigger), ordered by (size, address).
//   - Allocation takes the smallest free chunk that fits (best fit, lowest address on ties),
//     searching from the request's bin upwards, and splits off the remainder as a new free chunk.
//   - Freeing merges the chunk with free neighbours in its region, so when everything is freed
//     each region is one free chunk again.
//   - When no chunk fits, a new region is taken from the sub-allocator: the first is
//     `initial_region_bytes`, each next one twice the previous (at least the request), never
//     past `memory_limit` in total. If the sub-allocator refuses, smaller sizes down to the
//     request are tried; if that fails too, wholly free regions are given back and it retries.
//   - Failure returns nullptr; the caller turns it into absl::ResourceExhaustedError with
//     OutOfMemoryError below.
//
// Thread-safe: one absl::Mutex around the bookkeeping (the memory itself is never touched).
#ifndef WEIR_RUNTIME_GPU_BFC_ALLOCATOR_H_
#define WEIR_RUNTIME_GPU_BFC_ALLOCATOR_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "runtime/allocator.h"

namespace weir {

// Source of the large regions a BfcAllocator carves up. Alloc returns nullptr on failure and
// must return memory aligned to at least BfcAllocator::kMinAllocationSize.
class SubAllocator {
 public:
  virtual ~SubAllocator() = default;
  virtual void* Alloc(size_t bytes) = 0;
  virtual void Free(void* ptr, size_t bytes) = 0;
  // What kind of memory it gives, for messages: "gpu", "pinned host", "host".
  virtual std::string Name() const = 0;
};

// Plain host memory (aligned_alloc), for tests and as an example of the interface.
class HostSubAllocator : public SubAllocator {
 public:
  void* Alloc(size_t bytes) override;
  void Free(void* ptr, size_t bytes) override;
  std::string Name() const override { return "host"; }
};

struct BfcStats {
  int64_t bytes_in_use = 0;       // sum of the (rounded) sizes of live allocations
  int64_t peak_bytes_in_use = 0;  // highest bytes_in_use since creation or ResetPeak
  int64_t bytes_limit = 0;        // the memory limit
  int64_t bytes_reserved = 0;     // sum of the regions held from the sub-allocator
  int64_t num_allocs = 0;         // successful allocations since creation
  int64_t largest_alloc = 0;      // largest (rounded) allocation since creation
  int64_t num_regions = 0;
  int64_t num_failed_allocs = 0;  // requests answered with nullptr
};

class BfcAllocator {
 public:
  static constexpr size_t kMinAllocationSize = 256;
  static constexpr int kNumBins = 21;  // bin 20 holds chunks of 256 MiB and more

  struct Options {
    // Total bytes of all regions together; rounded down to a multiple of 256.
    size_t memory_limit = 0;
    // Size of the first region (rounded up to 256); later regions double. Clamped to the limit.
    size_t initial_region_bytes = size_t{2} << 20;
  };

  // `name` labels the allocator in messages ("gpu_bfc", "gpu_host_bfc").
  BfcAllocator(std::unique_ptr<SubAllocator> sub_allocator, const Options& options,
               std::string name);
  // Gives every region back. Live allocations at this point are a caller bug: they are
  // reported on stderr and their memory is released anyway.
  ~BfcAllocator();
  BfcAllocator(const BfcAllocator&) = delete;
  BfcAllocator& operator=(const BfcAllocator&) = delete;

  // Returns a 256-byte-aligned block of at least `bytes` (0 is allowed and gets a block of
  // 256), or nullptr when the memory limit or the sub-allocator says no. With
  // `may_release_regions` false, a failing request does not give wholly free regions back to
  // the sub-allocator to retry (the GPU device while it captures a CUDA graph, where cudaFree
  // must not be called).
  void* AllocateRaw(size_t bytes, bool may_release_regions = true);
  // `ptr` must come from AllocateRaw of this allocator; nullptr is ignored. A pointer this
  // allocator does not hold is reported on stderr and ignored (no crash, no corruption).
  void DeallocateRaw(void* ptr);

  // Size actually reserved for a live allocation (rounded), or 0 for an unknown pointer.
  size_t AllocatedSize(const void* ptr) const;
  // Size asked for in AllocateRaw, or 0 for an unknown pointer.
  size_t RequestedSize(const void* ptr) const;

  BfcStats GetStats() const;
  // Sets peak_bytes_in_use to the current bytes_in_use (to measure one step's peak).
  void ResetPeak();
  // Gives wholly free regions back to the sub-allocator; returns the bytes released.
  size_t ReleaseFreeRegions();

  const std::string& name() const { return name_; }
  size_t memory_limit() const { return memory_limit_; }

  // For tests: the number of free chunks, and whether every region's chunks tile it exactly
  // (address-ordered, no gaps, no overlaps, no two free neighbours, bins consistent).
  int64_t NumFreeChunks() const;
  bool CheckInvariants(std::string* why) const;

  // Bin index for a chunk of `bytes` (>= 256): floor(log2(bytes / 256)), capped at kNumBins-1.
  static int BinIndex(size_t bytes);
  static size_t RoundedBytes(size_t bytes);

 private:
  using ChunkHandle = int32_t;
  static constexpr ChunkHandle kNoChunk = -1;

  struct Chunk {
    uintptr_t ptr = 0;
    size_t size = 0;            // bytes this chunk spans, multiple of 256
    size_t requested = 0;       // bytes asked for, when in use
    ChunkHandle prev = kNoChunk;  // neighbours in address order within the region
    ChunkHandle next = kNoChunk;
    bool in_use = false;
    int32_t region = -1;        // index into regions_
  };
  // Free chunks of one bin, best fit first.
  struct BinEntry {
    size_t size;
    uintptr_t ptr;
    ChunkHandle handle;
    bool operator<(const BinEntry& o) const {
      return size != o.size ? size < o.size : ptr < o.ptr;
    }
  };
  struct Region {
    void* base = nullptr;  // nullptr once released (the slot is reused)
    size_t bytes = 0;
  };

  ChunkHandle FindFreeChunk(size_t rounded) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool Extend(size_t rounded) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  size_t ReleaseFreeRegionsLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  ChunkHandle NewChunk() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DeleteChunk(ChunkHandle h) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void InsertFree(ChunkHandle h) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RemoveFree(ChunkHandle h) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Merges chunk `h` with its (free) successor; returns `h`.
  void MergeWithNext(ChunkHandle h) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::unique_ptr<SubAllocator> sub_allocator_;
  const std::string name_;
  const size_t memory_limit_;

  mutable absl::Mutex mu_;
  std::vector<Chunk> chunks_ ABSL_GUARDED_BY(mu_);
  std::vector<ChunkHandle> free_handles_ ABSL_GUARDED_BY(mu_);  // recycled chunk slots
  std::vector<Region> regions_ ABSL_GUARDED_BY(mu_);
  absl::btree_set<BinEntry> bins_[kNumBins] ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uintptr_t, ChunkHandle> live_ ABSL_GUARDED_BY(mu_);  // in-use by address
  size_t next_region_bytes_ ABSL_GUARDED_BY(mu_);
  BfcStats stats_ ABSL_GUARDED_BY(mu_);
};

// weir's Allocator interface over a BfcAllocator, for tensors whose memory lives where the
// BFC's sub-allocator puts it (device memory: the host must never dereference the pointers).
class BfcAllocatorAdapter : public Allocator {
 public:
  explicit BfcAllocatorAdapter(BfcAllocator* bfc) : bfc_(bfc) {}
  std::string Name() const override { return bfc_->name(); }
  void* Allocate(size_t bytes) override { return bfc_->AllocateRaw(bytes); }
  void Deallocate(void* ptr, size_t) override { bfc_->DeallocateRaw(ptr); }
  BfcAllocator* bfc() const { return bfc_; }

 private:
  BfcAllocator* bfc_;
};

// The ResourceExhausted status for a failed allocation:
//   out of memory on /device:GPU:0 allocating N bytes for node 'x' (Op): in use A of limit L
absl::Status OutOfMemoryError(absl::string_view device_name, size_t bytes,
                              absl::string_view node_name, absl::string_view op,
                              const BfcStats& stats);

}  // namespace weir

#endif  // WEIR_RUNTIME_GPU_BFC_ALLOCATOR_H_
