// bfc_allocator_test.cc - Tests runtime/gpu/bfc_allocator on host memory: best fit, splitting,
// coalescing, region growth, the memory limit, exact statistics and many threads.
#include "runtime/gpu/bfc_allocator.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/status/status.h"

namespace weir {
namespace {

constexpr size_t kKiB = 1024;
constexpr size_t kMiB = 1024 * 1024;

std::unique_ptr<BfcAllocator> MakeBfc(size_t limit, size_t initial_region) {
  BfcAllocator::Options options;
  options.memory_limit = limit;
  options.initial_region_bytes = initial_region;
  return std::make_unique<BfcAllocator>(std::make_unique<HostSubAllocator>(), options, "test_bfc");
}

void RequireInvariants(const BfcAllocator& bfc) {
  std::string why;
  INFO(why);
  bool ok = bfc.CheckInvariants(&why);
  INFO(why);
  REQUIRE(ok);
}

bool Aligned(const void* p) {
  return reinterpret_cast<uintptr_t>(p) % BfcAllocator::kMinAllocationSize == 0;
}

// A host sub-allocator that refuses once `budget` bytes are out, counting its calls.
class BudgetSubAllocator : public SubAllocator {
 public:
  explicit BudgetSubAllocator(size_t budget, size_t* outstanding)
      : budget_(budget), outstanding_(outstanding) {}
  void* Alloc(size_t bytes) override {
    if (*outstanding_ + bytes > budget_) return nullptr;
    void* p = host_.Alloc(bytes);
    if (p != nullptr) *outstanding_ += bytes;
    return p;
  }
  void Free(void* ptr, size_t bytes) override {
    *outstanding_ -= bytes;
    host_.Free(ptr, bytes);
  }
  std::string Name() const override { return "budget host"; }

 private:
  HostSubAllocator host_;
  size_t budget_;
  size_t* outstanding_;
};

TEST_CASE("BfcAllocator: size classes and rounding") {
  CHECK(BfcAllocator::RoundedBytes(0) == 256);
  CHECK(BfcAllocator::RoundedBytes(1) == 256);
  CHECK(BfcAllocator::RoundedBytes(256) == 256);
  CHECK(BfcAllocator::RoundedBytes(257) == 512);
  CHECK(BfcAllocator::RoundedBytes(std::numeric_limits<size_t>::max()) == 0);  // overflow
  CHECK(BfcAllocator::BinIndex(256) == 0);
  CHECK(BfcAllocator::BinIndex(511) == 0);
  CHECK(BfcAllocator::BinIndex(512) == 1);
  CHECK(BfcAllocator::BinIndex(1 * kMiB) == 12);
  CHECK(BfcAllocator::BinIndex(size_t{1} << 40) == BfcAllocator::kNumBins - 1);
}

TEST_CASE("BfcAllocator: zero-byte and small allocations are aligned and counted") {
  auto bfc = MakeBfc(16 * kMiB, 1 * kMiB);
  void* a = bfc->AllocateRaw(0);
  void* b = bfc->AllocateRaw(1);
  void* c = bfc->AllocateRaw(300);
  REQUIRE(a != nullptr);
  REQUIRE(b != nullptr);
  REQUIRE(c != nullptr);
  CHECK(Aligned(a));
  CHECK(Aligned(b));
  CHECK(Aligned(c));
  CHECK(bfc->AllocatedSize(c) == 512);
  CHECK(bfc->RequestedSize(c) == 300);
  BfcStats stats = bfc->GetStats();
  CHECK(stats.bytes_in_use == 256 + 256 + 512);
  CHECK(stats.num_allocs == 3);
  CHECK(stats.largest_alloc == 512);
  CHECK(stats.bytes_limit == int64_t{16 * kMiB});
  CHECK(stats.bytes_reserved == int64_t{1 * kMiB});
  CHECK(stats.num_regions == 1);
  RequireInvariants(*bfc);
  bfc->DeallocateRaw(a);
  bfc->DeallocateRaw(b);
  bfc->DeallocateRaw(c);
  bfc->DeallocateRaw(nullptr);  // ignored
  CHECK(bfc->GetStats().bytes_in_use == 0);
  CHECK(bfc->NumFreeChunks() == 1);
  RequireInvariants(*bfc);
}

TEST_CASE("BfcAllocator: best fit reuses a freed hole and splits it") {
  auto bfc = MakeBfc(16 * kMiB, 1 * kMiB);
  void* a = bfc->AllocateRaw(4 * kKiB);
  void* hole_big = bfc->AllocateRaw(8 * kKiB);
  void* b = bfc->AllocateRaw(4 * kKiB);
  void* hole_small = bfc->AllocateRaw(2 * kKiB);
  void* c = bfc->AllocateRaw(4 * kKiB);
  // Chunks are carved in address order from the region's start.
  CHECK(static_cast<char*>(hole_big) == static_cast<char*>(a) + 4 * kKiB);
  bfc->DeallocateRaw(hole_big);
  bfc->DeallocateRaw(hole_small);
  // 2 KiB fits both holes and the region's tail: best fit is the 2 KiB hole.
  void* d = bfc->AllocateRaw(2 * kKiB);
  CHECK(d == hole_small);
  // 1 KiB: the smallest remaining hole is the 8 KiB one, split into 1 KiB + 7 KiB.
  void* e = bfc->AllocateRaw(1 * kKiB);
  CHECK(e == hole_big);
  void* f = bfc->AllocateRaw(7 * kKiB);
  CHECK(static_cast<char*>(f) == static_cast<char*>(hole_big) + 1 * kKiB);
  RequireInvariants(*bfc);
  for (void* p : {a, b, c, d, e, f}) bfc->DeallocateRaw(p);
  CHECK(bfc->NumFreeChunks() == 1);
  RequireInvariants(*bfc);
}

TEST_CASE("BfcAllocator: freeing coalesces with both neighbours") {
  auto bfc = MakeBfc(16 * kMiB, 1 * kMiB);
  std::vector<void*> blocks;
  for (int i = 0; i < 5; ++i) blocks.push_back(bfc->AllocateRaw(1 * kKiB));
  bfc->DeallocateRaw(blocks[1]);
  bfc->DeallocateRaw(blocks[3]);
  CHECK(bfc->NumFreeChunks() == 3);  // two holes and the region's tail
  bfc->DeallocateRaw(blocks[2]);      // merges with 1 and 3
  CHECK(bfc->NumFreeChunks() == 2);
  void* big = bfc->AllocateRaw(3 * kKiB);
  CHECK(big == blocks[1]);
  RequireInvariants(*bfc);
  bfc->DeallocateRaw(big);
  bfc->DeallocateRaw(blocks[0]);
  bfc->DeallocateRaw(blocks[4]);
  CHECK(bfc->NumFreeChunks() == 1);
  RequireInvariants(*bfc);
}

TEST_CASE("BfcAllocator: regions double and respect the limit") {
  auto bfc = MakeBfc(64 * kMiB, 1 * kMiB);
  std::vector<void*> blocks;
  for (int i = 0; i < 7; ++i) {
    blocks.push_back(bfc->AllocateRaw(1 * kMiB));
    REQUIRE(blocks.back() != nullptr);
  }
  // 1 + 2 + 4 MiB regions hold the seven 1 MiB blocks exactly.
  BfcStats stats = bfc->GetStats();
  CHECK(stats.num_regions == 3);
  CHECK(stats.bytes_reserved == int64_t{7 * kMiB});
  // A request bigger than the next region (8 MiB) gets a region of the next doubling.
  void* big = bfc->AllocateRaw(20 * kMiB);
  REQUIRE(big != nullptr);
  CHECK(bfc->GetStats().bytes_reserved == int64_t{7 * kMiB + 32 * kMiB});
  // 39 MiB reserved of 64: 25 MiB remain; 26 MiB cannot be had, 25 MiB can.
  CHECK(bfc->AllocateRaw(26 * kMiB) == nullptr);
  void* rest = bfc->AllocateRaw(25 * kMiB);
  CHECK(rest != nullptr);
  CHECK(bfc->GetStats().bytes_reserved == int64_t{64 * kMiB});
  CHECK(bfc->GetStats().num_failed_allocs == 1);
  RequireInvariants(*bfc);
  bfc->DeallocateRaw(rest);
  bfc->DeallocateRaw(big);
  for (void* p : blocks) bfc->DeallocateRaw(p);
  CHECK(bfc->NumFreeChunks() == bfc->GetStats().num_regions);
  RequireInvariants(*bfc);
}

TEST_CASE("BfcAllocator: past the limit is nullptr and the next allocation works") {
  auto bfc = MakeBfc(1 * kMiB, 1 * kMiB);
  CHECK(bfc->AllocateRaw(1 * kMiB + 1) == nullptr);
  CHECK(bfc->AllocateRaw(std::numeric_limits<size_t>::max()) == nullptr);
  CHECK(bfc->AllocateRaw(std::numeric_limits<size_t>::max() - 100) == nullptr);
  void* all = bfc->AllocateRaw(1 * kMiB);
  REQUIRE(all != nullptr);
  CHECK(bfc->AllocateRaw(1) == nullptr);
  bfc->DeallocateRaw(all);
  void* small = bfc->AllocateRaw(1);
  CHECK(small != nullptr);
  bfc->DeallocateRaw(small);
  BfcStats stats = bfc->GetStats();
  CHECK(stats.num_failed_allocs == 4);
  CHECK(stats.bytes_reserved <= stats.bytes_limit);
  RequireInvariants(*bfc);
}

TEST_CASE("BfcAllocator: a refusing sub-allocator gets smaller requests, then free regions back") {
  size_t outstanding = 0;
  BfcAllocator::Options options;
  options.memory_limit = 64 * kMiB;
  options.initial_region_bytes = 1 * kMiB;
  BfcAllocator bfc(std::make_unique<BudgetSubAllocator>(4 * kMiB, &outstanding), options, "b");
  void* a = bfc.AllocateRaw(1 * kMiB);
  REQUIRE(a != nullptr);
  bfc.DeallocateRaw(a);
  // The next region would be 2 MiB doubled to 4 MiB; with 3 MiB left in the budget the
  // allocator retries 90% steps down to the request and gets a 3 MiB region.
  void* b = bfc.AllocateRaw(3 * kMiB);
  REQUIRE(b != nullptr);
  CHECK(bfc.AllocatedSize(b) == 3 * kMiB);
  CHECK(bfc.GetStats().num_regions == 2);
  CHECK(outstanding == 4 * kMiB);
  RequireInvariants(bfc);
  bfc.DeallocateRaw(b);
  // 3.5 MiB fits no region and the budget is spent: both wholly free regions go back to the
  // sub-allocator and one region of 3.5 to 4 MiB takes their place.
  void* c = bfc.AllocateRaw(3 * kMiB + 512 * kKiB);
  REQUIRE(c != nullptr);
  CHECK(bfc.GetStats().num_regions == 1);
  CHECK(outstanding <= 4 * kMiB);
  CHECK(outstanding >= 3 * kMiB + 768 * kKiB);
  RequireInvariants(bfc);
  void* d = bfc.AllocateRaw(256 * kKiB);  // the region's tail
  CHECK(d != nullptr);
  CHECK(bfc.AllocateRaw(512 * kKiB) == nullptr);  // neither the region nor the budget has it
  RequireInvariants(bfc);
  bfc.DeallocateRaw(c);
  bfc.DeallocateRaw(d);
  size_t reserved = static_cast<size_t>(bfc.GetStats().bytes_reserved);
  CHECK(bfc.ReleaseFreeRegions() == reserved);
  CHECK(outstanding == 0);
  CHECK(bfc.GetStats().bytes_reserved == 0);
  CHECK(bfc.GetStats().num_regions == 0);
  // And it grows again afterwards.
  void* e = bfc.AllocateRaw(10);
  CHECK(e != nullptr);
  bfc.DeallocateRaw(e);
  RequireInvariants(bfc);
}

TEST_CASE("BfcAllocator: without may_release_regions a failing request keeps the free regions") {
  // What the GPU device asks while it captures a CUDA graph, where cudaFree is not allowed.
  size_t outstanding = 0;
  BfcAllocator::Options options;
  options.memory_limit = 64 * kMiB;
  options.initial_region_bytes = 1 * kMiB;
  BfcAllocator bfc(std::make_unique<BudgetSubAllocator>(4 * kMiB, &outstanding), options, "b");
  void* a = bfc.AllocateRaw(1 * kMiB);
  void* b = bfc.AllocateRaw(3 * kMiB);
  REQUIRE(a != nullptr);
  REQUIRE(b != nullptr);
  bfc.DeallocateRaw(a);
  bfc.DeallocateRaw(b);
  CHECK(bfc.AllocateRaw(3 * kMiB + 512 * kKiB, /*may_release_regions=*/false) == nullptr);
  CHECK(bfc.GetStats().num_regions == 2);
  CHECK(outstanding == 4 * kMiB);
  RequireInvariants(bfc);
  // Allowed again, the same request gives the regions back and succeeds.
  void* c = bfc.AllocateRaw(3 * kMiB + 512 * kKiB);
  CHECK(c != nullptr);
  CHECK(bfc.GetStats().num_regions == 1);
  bfc.DeallocateRaw(c);
  RequireInvariants(bfc);
}

TEST_CASE("BfcAllocator: peak, reset and unknown pointers") {
  auto bfc = MakeBfc(16 * kMiB, 1 * kMiB);
  void* a = bfc->AllocateRaw(100 * kKiB);
  void* b = bfc->AllocateRaw(200 * kKiB);
  CHECK(bfc->GetStats().peak_bytes_in_use == int64_t{300 * kKiB});
  bfc->DeallocateRaw(b);
  CHECK(bfc->GetStats().peak_bytes_in_use == int64_t{300 * kKiB});
  bfc->ResetPeak();
  CHECK(bfc->GetStats().peak_bytes_in_use == int64_t{100 * kKiB});
  int stack_value = 0;
  bfc->DeallocateRaw(&stack_value);                   // not ours: logged and ignored
  bfc->DeallocateRaw(static_cast<char*>(a) + 256);    // interior pointer: ignored too
  CHECK(bfc->GetStats().bytes_in_use == int64_t{100 * kKiB});
  CHECK(bfc->AllocatedSize(&stack_value) == 0);
  bfc->DeallocateRaw(a);
  CHECK(bfc->GetStats().bytes_in_use == 0);
  CHECK(bfc->GetStats().peak_bytes_in_use == int64_t{100 * kKiB});
  RequireInvariants(*bfc);
}

TEST_CASE("BfcAllocator: random alloc/free sequences keep blocks disjoint and stats exact") {
  for (uint32_t seed : {1u, 2u, 3u, 42u}) {
    INFO("seed " << seed);
    auto bfc = MakeBfc(32 * kMiB, 256 * kKiB);
    std::mt19937 rng(seed);
    std::map<uintptr_t, size_t> live;  // address -> rounded size
    int64_t in_use = 0, peak = 0, allocs = 0, largest = 0;
    auto free_one = [&](std::map<uintptr_t, size_t>::iterator it) {
      bfc->DeallocateRaw(reinterpret_cast<void*>(it->first));
      in_use -= static_cast<int64_t>(it->second);
      live.erase(it);
    };
    for (int step = 0; step < 4000; ++step) {
      bool allocate = live.empty() || rng() % 100 < 55;
      if (allocate) {
        // Mostly small, sometimes up to 1 MiB, sometimes odd sizes.
        size_t bytes = rng() % 10 == 0 ? rng() % (1 * kMiB) : rng() % (16 * kKiB);
        void* p = bfc->AllocateRaw(bytes);
        if (p == nullptr) {
          // Only allowed when no free chunk fits and a new region would pass the limit.
          BfcStats now = bfc->GetStats();
          CHECK(now.bytes_reserved + static_cast<int64_t>(BfcAllocator::RoundedBytes(bytes)) >
                now.bytes_limit);
          continue;
        }
        REQUIRE(Aligned(p));
        size_t rounded = BfcAllocator::RoundedBytes(bytes);
        REQUIRE(bfc->AllocatedSize(p) == rounded);
        uintptr_t addr = reinterpret_cast<uintptr_t>(p);
        auto next = live.lower_bound(addr);
        if (next != live.end()) REQUIRE(addr + rounded <= next->first);
        if (next != live.begin()) {
          auto prev = std::prev(next);
          REQUIRE(prev->first + prev->second <= addr);
        }
        live[addr] = rounded;
        in_use += static_cast<int64_t>(rounded);
        peak = std::max(peak, in_use);
        largest = std::max(largest, static_cast<int64_t>(rounded));
        ++allocs;
      } else {
        auto it = live.begin();
        std::advance(it, rng() % live.size());
        free_one(it);
      }
      if (step % 500 == 0) RequireInvariants(*bfc);
      BfcStats stats = bfc->GetStats();
      REQUIRE(stats.bytes_in_use == in_use);
      REQUIRE(stats.peak_bytes_in_use == peak);
      REQUIRE(stats.bytes_reserved <= stats.bytes_limit);
    }
    BfcStats stats = bfc->GetStats();
    CHECK(stats.num_allocs == allocs);
    CHECK(stats.largest_alloc == largest);
    // Free the rest in random order: every region is one free chunk again.
    std::vector<uintptr_t> rest;
    for (auto& [addr, size] : live) rest.push_back(addr);
    std::shuffle(rest.begin(), rest.end(), rng);
    for (uintptr_t addr : rest) free_one(live.find(addr));
    RequireInvariants(*bfc);
    stats = bfc->GetStats();
    CHECK(stats.bytes_in_use == 0);
    CHECK(bfc->NumFreeChunks() == stats.num_regions);
    CHECK(bfc->ReleaseFreeRegions() == static_cast<size_t>(stats.bytes_reserved));
    CHECK(bfc->GetStats().bytes_reserved == 0);
  }
}

TEST_CASE("BfcAllocator: many threads allocate, write and free without overlap") {
  auto bfc = MakeBfc(256 * kMiB, 1 * kMiB);
  constexpr int kThreads = 8;
  constexpr int kSteps = 3000;
  std::vector<std::thread> threads;
  std::vector<int> corrupted(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(1000 + t);
      std::vector<std::pair<unsigned char*, size_t>> mine;
      auto release = [&](size_t i) {
        auto [p, n] = mine[i];
        // Every byte still carries this thread's mark: nobody else got an overlapping block.
        for (size_t k = 0; k < n; ++k) {
          if (p[k] != static_cast<unsigned char>(t + 1)) {
            corrupted[t] = 1;
            break;
          }
        }
        bfc->DeallocateRaw(p);
        mine[i] = mine.back();
        mine.pop_back();
      };
      for (int s = 0; s < kSteps; ++s) {
        if (mine.empty() || rng() % 2 == 0) {
          size_t n = 1 + rng() % (64 * kKiB);
          auto* p = static_cast<unsigned char*>(bfc->AllocateRaw(n));
          if (p == nullptr) continue;
          std::memset(p, t + 1, n);
          mine.emplace_back(p, n);
        } else {
          release(rng() % mine.size());
        }
      }
      while (!mine.empty()) release(mine.size() - 1);
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) CHECK(corrupted[t] == 0);
  BfcStats stats = bfc->GetStats();
  CHECK(stats.bytes_in_use == 0);
  CHECK(stats.num_failed_allocs == 0);
  CHECK(bfc->NumFreeChunks() == stats.num_regions);
  RequireInvariants(*bfc);
}

TEST_CASE("BfcAllocator: the Allocator adapter and the out-of-memory message") {
  auto bfc = MakeBfc(1 * kMiB, 1 * kMiB);
  BfcAllocatorAdapter adapter(bfc.get());
  CHECK(adapter.Name() == "test_bfc");
  void* p = adapter.Allocate(1000);
  REQUIRE(p != nullptr);
  CHECK(reinterpret_cast<uintptr_t>(p) % kTensorAlignment == 0);
  CHECK(adapter.Allocate(2 * kMiB) == nullptr);
  absl::Status oom =
      OutOfMemoryError("/device:GPU:0", 2 * kMiB, "dense/MatMul", "MatMul", bfc->GetStats());
  CHECK(oom.code() == absl::StatusCode::kResourceExhausted);
  CHECK(oom.message() ==
        "out of memory on /device:GPU:0 allocating 2097152 bytes for node 'dense/MatMul' "
        "(MatMul): in use 1024 of limit 1048576");
  adapter.Deallocate(p, 1000);
  CHECK(bfc->GetStats().bytes_in_use == 0);
}

TEST_CASE("BfcAllocator: destruction with live blocks releases the regions") {
  size_t outstanding = 0;
  {
    BfcAllocator::Options options;
    options.memory_limit = 8 * kMiB;
    options.initial_region_bytes = 1 * kMiB;
    BfcAllocator bfc(std::make_unique<BudgetSubAllocator>(8 * kMiB, &outstanding), options, "d");
    CHECK(bfc.AllocateRaw(3 * kMiB) != nullptr);  // leaked on purpose: reported on stderr
    CHECK(outstanding > 0);
  }
  CHECK(outstanding == 0);
}

}  // namespace
}  // namespace weir
