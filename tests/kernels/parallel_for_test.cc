// parallel_for_test.cc - Tests for kernels/cpu/parallel_for.h: every index is visited exactly
// once for many sizes and team sizes, chunks start on multiples of the grain, and a team of one
// (or a small loop) runs fn(0, n) on the calling thread.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "kernels/cpu/onednn.h"
#include "kernels/cpu/parallel_for.h"
#include "runtime/device.h"

namespace weir {
namespace {

// A cost that always asks for the device's whole team.
constexpr double kHuge = 1e12;

struct Chunks {
  std::mutex mu;
  std::vector<std::pair<int64_t, int64_t>> ranges;
  std::vector<std::thread::id> threads;
};

void Record(Chunks& chunks, int64_t begin, int64_t end) {
  std::lock_guard<std::mutex> lock(chunks.mu);
  chunks.ranges.emplace_back(begin, end);
  chunks.threads.push_back(std::this_thread::get_id());
}

TEST_CASE("ParallelFor visits every index exactly once, in aligned chunks") {
  for (int threads : {1, 2, 3, 4, 7}) {
    CpuDevice device(threads);
    for (int64_t grain : {int64_t{1}, int64_t{16}, int64_t{64}}) {
      for (int64_t n : {0, 1, 2, 15, 16, 17, 31, 33, 100, 1000, 4097, 65536, 100003}) {
        CAPTURE(threads, grain, n);
        std::vector<int> visits(n, 0);
        Chunks chunks;
        ParallelFor(&device, n, kHuge, grain, [&](int64_t begin, int64_t end) {
          Record(chunks, begin, end);
          for (int64_t i = begin; i < end; ++i) ++visits[i];  // chunks are disjoint
        });
        CHECK(std::all_of(visits.begin(), visits.end(), [](int v) { return v == 1; }));
        if (n == 0) {
          CHECK(chunks.ranges.empty());
          continue;
        }
        // At most one chunk per thread of the team, none empty, all but the last a multiple of
        // the grain long (so every chunk starts on one).
        CHECK(static_cast<int>(chunks.ranges.size()) <= threads);
        const int64_t expected_chunk = ParallelForChunk(n, threads, grain);
        for (const auto& [begin, end] : chunks.ranges) {
          CHECK(begin < end);
          CHECK(begin % grain == 0);
          CHECK((end == n || (end - begin) == expected_chunk));
        }
        if (threads > 1 && n > grain) {
          const int64_t wanted = (n + expected_chunk - 1) / expected_chunk;
          CHECK(static_cast<int64_t>(chunks.ranges.size()) == wanted);
        }
      }
    }
  }
}

TEST_CASE("ParallelFor defaults to cache-line chunks of 16 floats") {
  CpuDevice device(2);
  Chunks chunks;
  ParallelFor(&device, 1000, kHuge, [&](int64_t begin, int64_t end) { Record(chunks, begin, end); });
  REQUIRE(chunks.ranges.size() == 2);
  std::sort(chunks.ranges.begin(), chunks.ranges.end());
  CHECK(chunks.ranges[0] == std::make_pair(int64_t{0}, int64_t{512}));
  CHECK(chunks.ranges[1] == std::make_pair(int64_t{512}, int64_t{1000}));
}

TEST_CASE("ParallelFor runs a team of one, or a small loop, as one call on the caller") {
  const std::thread::id caller = std::this_thread::get_id();
  auto single_call = [&](const Device& device, int64_t n, double cost) {
    Chunks chunks;
    ParallelFor(&device, n, cost, [&](int64_t begin, int64_t end) { Record(chunks, begin, end); });
    return chunks.ranges.size() == 1 && chunks.ranges[0] == std::make_pair(int64_t{0}, n) &&
           chunks.threads[0] == caller;
  };
  CpuDevice one(1);
  CHECK(single_call(one, 1 << 20, kHuge));
  CpuDevice two(2);
  // Less work than two threads' worth (onednn::kFlopsPerThread each).
  CHECK(single_call(two, 1000, 1.0));
  CHECK(single_call(two, 1 << 20, onednn::kFlopsPerThread / (1 << 20)));
  // No more than one grain.
  CHECK(single_call(two, 16, kHuge));
  // Enough work for two.
  Chunks chunks;
  ParallelFor(&two, 1 << 20, 4 * onednn::kFlopsPerThread / (1 << 20),
              [&](int64_t begin, int64_t end) { Record(chunks, begin, end); });
  CHECK(chunks.ranges.size() == 2);
}

TEST_CASE("ParallelFor shares the device's threads among running kernels") {
  CpuDevice device(2);
  // Another expensive kernel running on the device: this one gets a team of one.
  Device::KernelScope other(&device);
  Device::KernelScope self(&device);
  Chunks chunks;
  ParallelFor(&device, 1 << 16, kHuge, [&](int64_t begin, int64_t end) { Record(chunks, begin, end); });
  CHECK(chunks.ranges.size() == 1);
}

TEST_CASE("ParallelFor covers every chunk when called inside another OpenMP-style team") {
  // A ParallelFor inside a ParallelFor: nested OpenMP gives the inner one a team of one, whose
  // single member must still run every chunk.
  CpuDevice device(2);
  constexpr int64_t kOuter = 64, kInner = 1000;
  std::vector<int> visits(kOuter * kInner, 0);
  ParallelFor(&device, kOuter, kHuge, 1, [&](int64_t ob, int64_t oe) {
    for (int64_t o = ob; o < oe; ++o) {
      ParallelFor(&device, kInner, kHuge, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) ++visits[o * kInner + i];
      });
    }
  });
  CHECK(std::all_of(visits.begin(), visits.end(), [](int v) { return v == 1; }));
}

}  // namespace
}  // namespace weir
