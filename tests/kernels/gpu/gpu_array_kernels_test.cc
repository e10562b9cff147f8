// gpu_array_kernels_test.cc - Conformance of the kernels/gpu array launchers (BiasAdd,
// Transpose, ConcatV2, Slice/StridedSlice, Cast, Fill, GatherV2) against host references.
//
// Without a GPU every test case warns "SKIPPED: no GPU" and returns. These kernels move data,
// so results must be exact.
#include <catch2/catch.hpp>

#ifdef WEIR_HAVE_CUDA

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kernels/gpu/bias_add.h"
#include "kernels/gpu/cast_fill.h"
#include "kernels/gpu/concat_slice.h"
#include "kernels/gpu/gather.h"
#include "kernels/gpu/transpose.h"
#include "tests/kernels/gpu/gpu_test_util.h"

namespace weir {
namespace gpu {
namespace {

using testing::CheckEqual;
using testing::DeviceBuffer;
using testing::Dims;
using testing::NumElements;
using testing::RandomVector;
using testing::ToGpuDims;

TEST_CASE("gpu BiasAdd in NHWC and NCHW") {
  WEIR_REQUIRE_GPU_OR_SKIP();
  struct BiasCase {
    int64_t outer, channels, inner;
  };
  // NHWC with vectorizable channels, NHWC with odd channels, NCHW, empty.
  const BiasCase cases[] = {{4 * 5 * 6, 8, 1}, {3, 7, 1}, {2, 8, 25}, {0, 4, 1}, {70000, 3, 1}};
  uint32_t seed = 500;
  for (const BiasCase& c : cases) {
    const int64_t n = c.outer * c.channels * c.inner;
    std::vector<float> x = RandomVector<float>(n, -10, 10, seed++);
    std::vector<float> bias = RandomVector<float>(c.channels, -10, 10, seed++);
    DeviceBuffer<float> dx(x), db(bias), dout(n);
    WEIR_REQUIRE_OK(LaunchBiasAdd<float>(dx.get(), db.get(), dout.get(), c.outer, c.channels,
                                         c.inner, nullptr));
    std::vector<float> want(n);
    for (int64_t i = 0; i < n; ++i) want[i] = x[i] + bias[(i / c.inner) % c.channels];
    CheckEqual(dout.ToHost(), want,
               "BiasAdd outer " + std::to_string(c.outer) + " channels " +
                   std::to_string(c.channels) + " inner " + std::to_string(c.inner));
  }
  std::vector<int32_t> xi = {1, 2, 3, 4, 5, 6};
  std::vector<int32_t> bi = {10, 20, 30};
  DeviceBuffer<int32_t> dxi(xi), dbi(bi);
  WEIR_REQUIRE_OK(LaunchBiasAdd<int32_t>(dxi.get(), dbi.get(), dxi.get(), 2, 3, 1, nullptr));
  CheckEqual(dxi.ToHost(), std::vector<int32_t>{11, 22, 33, 14, 25, 36}, "in-place int32");
}

template <typename T>
std::vector<T> ReferenceTranspose(const std::vector<T>& x, const Dims& dims,
                                  const std::vector<int>& perm) {
  Dims out_dims(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) out_dims[i] = dims[perm[i]];
  std::vector<T> out(x.size());
  for (int64_t o = 0; o < static_cast<int64_t>(out.size()); ++o) {
    const Dims oc = testing::Unravel(o, out_dims);
    Dims ic(dims.size());
    for (size_t i = 0; i < dims.size(); ++i) ic[perm[i]] = oc[i];
    out[o] = x[testing::Ravel(ic, dims)];
  }
  return out;
}

TEST_CASE("gpu Transpose for any permutation") {
  WEIR_REQUIRE_GPU_OR_SKIP();
  struct TransposeCase {
    Dims dims;
    std::vector<int> perm;
  };
  const TransposeCase cases[] = {
      {{64, 48}, {1, 0}},                // tiled
      {{3, 70, 33}, {0, 2, 1}},          // tiled with a batch
      {{2, 3, 4, 5}, {3, 1, 2, 0}},      // general
      {{2, 3, 4, 5}, {0, 1, 2, 3}},      // identity: a copy
      {{2, 1, 3, 1, 4}, {4, 3, 2, 1, 0}},
      {{6, 4, 1, 5}, {0, 1, 3, 2}},      // moves only a size-1 dimension: a copy
      {{4, 5, 6, 7}, {0, 1, 3, 2}},      // merges to [20, 6, 7] -> tiled
      {{4, 5, 6, 7}, {2, 3, 0, 1}},      // merges to [20, 42] -> tiled
      {{2, 2, 2, 2, 2, 2, 2, 3}, {7, 6, 5, 4, 3, 2, 1, 0}},  // rank 8
      {{}, {}},
      {{0, 3}, {1, 0}},
      {{2049, 3001}, {1, 0}},            // large, ragged tiles
  };
  uint32_t seed = 600;
  for (const TransposeCase& c : cases) {
    std::vector<float> x = RandomVector<float>(NumElements(c.dims), -1, 1, seed++);
    DeviceBuffer<float> in(x), out(x.size());
    WEIR_REQUIRE_OK(LaunchTranspose<float>(in.get(), ToGpuDims(c.dims), c.perm.data(), out.get(),
                                           nullptr));
    CheckEqual(out.ToHost(), ReferenceTranspose(x, c.dims, c.perm),
               "Transpose of " + testing::DimsString(c.dims));
  }
  std::vector<int64_t> xl = RandomVector<int64_t>(3 * 40 * 50, -1000, 1000, 601);
  DeviceBuffer<int64_t> inl(xl), outl(xl.size());
  const std::vector<int> perm = {1, 2, 0};
  WEIR_REQUIRE_OK(LaunchTranspose<int64_t>(inl.get(), GpuDims{3, 40, 50}, perm.data(),
                                           outl.get(), nullptr));
  CheckEqual(outl.ToHost(), ReferenceTranspose(xl, {3, 40, 50}, perm), "int64 Transpose");
  const std::vector<int> bad = {0, 0};
  const GpuStatus st =
      LaunchTranspose<float>(nullptr, GpuDims{2, 3}, bad.data(), nullptr, nullptr);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message() == "transpose permutation is not a permutation of [0, 2): entry 1 is 0");
}

TEST_CASE("gpu ConcatV2 along every axis") {
  WEIR_REQUIRE_GPU_OR_SKIP();
  // Inputs [2, a_i, 3, 4] concatenated on each axis in turn, one of them empty along it.
  const Dims base = {2, 5, 3, 4};
  for (int axis = 0; axis < 4; ++axis) {
    const int64_t sizes[] = {base[axis], 0, base[axis] + 2};
    std::vector<std::vector<float>> host;
    std::vector<std::unique_ptr<DeviceBuffer<float>>> device;
    std::vector<const float*> pointers;
    std::vector<Dims> shapes;
    for (int i = 0; i < 3; ++i) {
      Dims d = base;
      d[axis] = sizes[i];
      shapes.push_back(d);
      host.push_back(RandomVector<float>(NumElements(d), -5, 5, 700 + axis * 3 + i));
      device.push_back(std::make_unique<DeviceBuffer<float>>(host.back()));
      pointers.push_back(device.back()->get());
    }
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; ++d) outer *= base[d];
    for (int d = axis + 1; d < 4; ++d) inner *= base[d];
    Dims out_dims = base;
    out_dims[axis] = sizes[0] + sizes[1] + sizes[2];
    DeviceBuffer<float> out(NumElements(out_dims));
    WEIR_REQUIRE_OK(LaunchConcat<float>(pointers.data(), sizes, 3, outer, inner, out.get(),
                                        nullptr));
    std::vector<float> want;
    for (int64_t o = 0; o < outer; ++o) {
      for (int i = 0; i < 3; ++i) {
        const int64_t width = sizes[i] * inner;
        want.insert(want.end(), host[i].begin() + o * width, host[i].begin() + (o + 1) * width);
      }
    }
    CheckEqual(out.ToHost(), want, "ConcatV2 axis " + std::to_string(axis));
  }
}

TEST_CASE("gpu Slice and StridedSlice") {
  WEIR_REQUIRE_GPU_OR_SKIP();
  std::vector<float> x = RandomVector<float>(10 * 12, -5, 5, 800);
  DeviceBuffer<float> in(x);
  {
    // x[1:9:2, 11:0:-3] -> rows 1,3,5,7 and columns 11,8,5,2.
    const int64_t begin[] = {1, 11};
    const int64_t strides[] = {2, -3};
    DeviceBuffer<float> out(16);
    WEIR_REQUIRE_OK(LaunchStridedSlice<float>(in.get(), GpuDims{10, 12}, begin, strides,
                                              GpuDims{4, 4}, out.get(), nullptr));
    std::vector<float> want;
    for (int r = 1; r < 9; r += 2) {
      for (int c = 11; c > 0; c -= 3) want.push_back(x[r * 12 + c]);
    }
    CheckEqual(out.ToHost(), want, "StridedSlice");
  }
  {
    const int64_t begin[] = {2, 3};
    DeviceBuffer<float> out(5 * 6);
    WEIR_REQUIRE_OK(LaunchSlice<float>(in.get(), GpuDims{10, 12}, begin, GpuDims{5, 6},
                                       out.get(), nullptr));
    std::vector<float> want;
    for (int r = 2; r < 7; ++r) {
      for (int c = 3; c < 9; ++c) want.push_back(x[r * 12 + c]);
    }
    CheckEqual(out.ToHost(), want, "Slice");
    // An empty output is fine; a read past the input is an error naming the dimension.
    WEIR_REQUIRE_OK(LaunchSlice<float>(in.get(), GpuDims{10, 12}, begin, GpuDims{0, 6},
                                       out.get(), nullptr));
    const GpuStatus st = LaunchSlice<float>(in.get(), GpuDims{10, 12}, begin, GpuDims{5, 10},
                                            out.get(), nullptr);
    REQUIRE_FALSE(st.ok());
    CHECK(st.message() ==
          "strided slice dimension 1 reads [3 .. 12] with stride 1, expected indices in [0, 12)");
  }
}

TEST_CASE("gpu Cast between float, int32, int64 and bool; Fill") {
  WEIR_REQUIRE_GPU_OR_SKIP();
  std::vector<float> xf = {-2.7f, -0.5f, 0.0f, 0.4f, 1.0f, 3.9f, 1e6f, -123.5f};
  DeviceBuffer<float> df(xf);
  DeviceBuffer<int32_t> di(xf.size());
  WEIR_REQUIRE_OK(LaunchCast<float, int32_t>(df.get(), di.get(), xf.size(), nullptr));
  CheckEqual(di.ToHost(), std::vector<int32_t>{-2, 0, 0, 0, 1, 3, 1000000, -123},
             "float -> int32 truncates");
  DeviceBuffer<bool> db(xf.size());
  WEIR_REQUIRE_OK(LaunchCast<float, bool>(df.get(), db.get(), xf.size(), nullptr));
  CheckEqual(db.ToHost(), std::vector<bool>{true, true, false, true, true, true, true, true},
             "float -> bool");
  DeviceBuffer<int64_t> dl(xf.size());
  WEIR_REQUIRE_OK(LaunchCast<bool, int64_t>(db.get(), dl.get(), xf.size(), nullptr));
  CheckEqual(dl.ToHost(), std::vector<int64_t>{1, 1, 0, 1, 1, 1, 1, 1}, "bool -> int64");
  std::vector<int64_t> big = {int64_t{1} << 40, -7, 123456789012};
  DeviceBuffer<int64_t> dbig(big);
  DeviceBuffer<float> dbf(3);
  WEIR_REQUIRE_OK(LaunchCast<int64_t, float>(dbig.get(), dbf.get(), 3, nullptr));
  CheckEqual(dbf.ToHost(), std::vector<float>{static_cast<float>(big[0]), -7.0f,
                                              static_cast<float>(big[2])},
             "int64 -> float");
  WEIR_REQUIRE_OK(LaunchCast<int32_t, float>(di.get(), df.get(), xf.size(), nullptr));
  CheckEqual(df.ToHost(), std::vector<float>{-2, 0, 0, 0, 1, 3, 1e6f, -123}, "int32 -> float");

  const int64_t n = 1000003;
  DeviceBuffer<float> fill(n);
  WEIR_REQUIRE_OK(LaunchFill<float>(fill.get(), n, 2.5f, nullptr));
  CheckEqual(fill.ToHost(), std::vector<float>(n, 2.5f), "Fill float");
  DeviceBuffer<int64_t> fill64(17);
  WEIR_REQUIRE_OK(LaunchFill<int64_t>(fill64.get(), 17, -(int64_t{1} << 50), nullptr));
  CheckEqual(fill64.ToHost(), std::vector<int64_t>(17, -(int64_t{1} << 50)), "Fill int64");
}

TEST_CASE("gpu GatherV2 gathers along an axis and reports out-of-range indices") {
  WEIR_REQUIRE_GPU_OR_SKIP();
  // params [5, 7, 3], axis 1.
  const int64_t outer = 5, axis_size = 7, inner = 3;
  std::vector<float> params = RandomVector<float>(outer * axis_size * inner, -5, 5, 900);
  DeviceBuffer<float> dp(params);
  DeviceBuffer<char> slot(8);
  {
    std::vector<int32_t> idx = {4, 0, 6, 4, 2, 2};
    DeviceBuffer<int32_t> di(idx);
    DeviceBuffer<float> out(outer * idx.size() * inner);
    WEIR_REQUIRE_OK(LaunchGatherV2<float, int32_t>(dp.get(), outer, axis_size, inner, di.get(),
                                                   idx.size(), out.get(), slot.get(), nullptr));
    WEIR_REQUIRE_OK(ReadGatherError<int32_t>(slot.get(), di.get(), axis_size, nullptr));
    std::vector<float> want;
    for (int64_t o = 0; o < outer; ++o) {
      for (int32_t j : idx) {
        for (int64_t k = 0; k < inner; ++k) want.push_back(params[(o * axis_size + j) * inner + k]);
      }
    }
    CheckEqual(out.ToHost(), want, "GatherV2 axis 1, int32 indices");
  }
  {
    // axis 0 of [35, 3] with int64 indices
    std::vector<int64_t> idx = {34, 0, 17};
    DeviceBuffer<int64_t> di(idx);
    DeviceBuffer<float> out(idx.size() * inner);
    WEIR_REQUIRE_OK(LaunchGatherV2<float, int64_t>(dp.get(), 1, outer * axis_size, inner,
                                                   di.get(), idx.size(), out.get(), slot.get(),
                                                   nullptr));
    WEIR_REQUIRE_OK(ReadGatherError<int64_t>(slot.get(), di.get(), outer * axis_size, nullptr));
    std::vector<float> want;
    for (int64_t j : idx) {
      for (int64_t k = 0; k < inner; ++k) want.push_back(params[j * inner + k]);
    }
    CheckEqual(out.ToHost(), want, "GatherV2 axis 0, int64 indices");
  }
  {
    // Out of range: an error naming the first bad position, not a crash; a later good gather
    // through the same slot is fine again.
    std::vector<int32_t> idx = {1, 3, 9, -1};
    DeviceBuffer<int32_t> di(idx);
    DeviceBuffer<float> out(outer * idx.size() * inner);
    WEIR_REQUIRE_OK(LaunchGatherV2<float, int32_t>(dp.get(), outer, axis_size, inner, di.get(),
                                                   idx.size(), out.get(), slot.get(), nullptr));
    const GpuStatus st = ReadGatherError<int32_t>(slot.get(), di.get(), axis_size, nullptr);
    REQUIRE_FALSE(st.ok());
    CHECK(st.message() == "indices[2] = 9 is not in [0, 7)");
    std::vector<float> got = out.ToHost();
    CHECK(got[2 * inner] == 0.0f);  // the bad row is zero-filled
    std::vector<int32_t> good = {0};
    DeviceBuffer<int32_t> dg(good);
    WEIR_REQUIRE_OK(LaunchGatherV2<float, int32_t>(dp.get(), outer, axis_size, inner, dg.get(),
                                                   1, out.get(), slot.get(), nullptr));
    WEIR_REQUIRE_OK(ReadGatherError<int32_t>(slot.get(), dg.get(), axis_size, nullptr));
  }
}

}  // namespace
}  // namespace gpu
}  // namespace weir

#else  // !WEIR_HAVE_CUDA

TEST_CASE("gpu array kernels") { WARN("SKIPPED: no GPU (this build has no CUDA toolkit)"); }

#endif  // WEIR_HAVE_CUDA
