// array_extra_kernels.h - Helpers shared by the CPU kernels of the array-extra family
// (array_extra_kernels.cc, fill_pad_kernels.cc) and the second file's row list.
#ifndef WEIR_KERNELS_CPU_ARRAY_EXTRA_KERNELS_H_
#define WEIR_KERNELS_CPU_ARRAY_EXTRA_KERNELS_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/types/span.h"
#include "runtime/kernel.h"
#include "runtime/kernel_registry.h"

namespace weir {
namespace array_extra {

// Rows for Fill, ZerosLike, OnesLike, Range, Tile, OneHot, Pad, PadV2, MirrorPad, Cumsum,
// Where and TopKV2 (fill_pad_kernels.cc).
void RegisterFillPadKernels(KernelRegistry& registry);

inline std::string IntsToString(const std::vector<int64_t>& values) {
  return absl::StrCat("[", absl::StrJoin(values, ","), "]");
}

// The values of an int8/int16/int32/int64/uint8 tensor (index arguments).
inline std::vector<int64_t> IndexValues(const Tensor& t) {
  std::vector<int64_t> out(t.num_elements());
  for (size_t k = 0; k < out.size(); ++k) {
    switch (t.dtype()) {
      case DT_INT8:
        out[k] = t.data<int8_t>()[k];
        break;
      case DT_UINT8:
        out[k] = t.data<uint8_t>()[k];
        break;
      case DT_INT16:
        out[k] = t.data<int16_t>()[k];
        break;
      case DT_INT32:
        out[k] = t.data<int32_t>()[k];
        break;
      default:
        out[k] = t.data<int64_t>()[k];
        break;
    }
  }
  return out;
}

// A scalar (or one-element) index input such as an axis.
inline absl::Status ScalarIndex(const KernelContext* ctx, int i, absl::string_view what,
                                int64_t* value) {
  const Tensor& t = ctx->input(i);
  if (t.rank() > 1 || t.num_elements() != 1) {
    return absl::InvalidArgumentError(absl::StrCat("input ", i, " (", what, ") has shape ",
                                                   t.shape().ToString(), ", expected a scalar"));
  }
  *value = IndexValues(t)[0];
  return absl::OkStatus();
}

// A rank-1 index input.
inline absl::Status VectorIndex(const KernelContext* ctx, int i, absl::string_view what,
                                std::vector<int64_t>* values) {
  const Tensor& t = ctx->input(i);
  if (t.rank() != 1) {
    return absl::InvalidArgumentError(absl::StrCat("input ", i, " (", what, ") has shape ",
                                                   t.shape().ToString(), ", expected rank 1"));
  }
  *values = IndexValues(t);
  return absl::OkStatus();
}

// Checks `axis` against [-rank, rank) and returns it counted from the front.
inline absl::Status CanonicalAxis(int64_t axis, int rank, absl::string_view what, int* out) {
  if (axis < -rank || axis >= rank) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is ", axis, ", expected a value in [",
                                                   -rank, ", ", rank, ") for rank ", rank));
  }
  *out = static_cast<int>(axis < 0 ? axis + rank : axis);
  return absl::OkStatus();
}

inline int64_t Product(absl::Span<const int64_t> dims, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t k = from; k < to; ++k) p *= dims[k];
  return p;
}

// Fixed-size stand-ins for elements of 1, 2, 4, 8 and 16 bytes.
template <int kBytes>
struct Bytes {
  unsigned char b[kBytes];
};

// out[i_0, ..., i_n] = in[sum_k maps[k][i_k] * in_strides[k]], or *fill where some
// maps[k][i_k] is negative. The output's shape is the maps' lengths.
template <typename E>
void GatherByMapsTyped(const void* in, const std::vector<int64_t>& in_dims,
                       const std::vector<std::vector<int64_t>>& maps, const void* fill, void* out) {
  const int rank = static_cast<int>(maps.size());
  const E* src = static_cast<const E*>(in);
  E* dst = static_cast<E*>(out);
  const E fill_value = fill ? *static_cast<const E*>(fill) : E{};
  if (rank == 0) {
    *dst = *src;
    return;
  }
  std::vector<int64_t> strides(rank, 1);
  for (int k = rank - 2; k >= 0; --k) strides[k] = strides[k + 1] * in_dims[k + 1];
  int64_t rows = 1;
  for (int k = 0; k < rank - 1; ++k) rows *= static_cast<int64_t>(maps[k].size());
  const std::vector<int64_t>& last = maps[rank - 1];
  const int64_t inner = static_cast<int64_t>(last.size());
  if (inner == 0 || rows == 0) return;
  std::vector<int64_t> index(rank, 0);
  for (int64_t row = 0; row < rows; ++row) {
    int64_t offset = 0;
    bool pad = false;
    for (int k = 0; k < rank - 1; ++k) {
      const int64_t m = maps[k][index[k]];
      pad |= m < 0;
      offset += m * strides[k];
    }
    for (int64_t j = 0; j < inner; ++j) {
      dst[j] = pad || last[j] < 0 ? fill_value : src[offset + last[j]];
    }
    dst += inner;
    for (int k = rank - 2; k >= 0; --k) {
      if (++index[k] < static_cast<int64_t>(maps[k].size())) break;
      index[k] = 0;
    }
  }
}

// GatherByMapsTyped for any fixed-size dtype; `fill` points at one element (may be null).
inline absl::Status GatherByMaps(DataType dtype, const void* in,
                                 const std::vector<int64_t>& in_dims,
                                 const std::vector<std::vector<int64_t>>& maps, const void* fill,
                                 void* out) {
  switch (DataTypeSize(dtype)) {
    case 1:
      GatherByMapsTyped<uint8_t>(in, in_dims, maps, fill, out);
      break;
    case 2:
      GatherByMapsTyped<uint16_t>(in, in_dims, maps, fill, out);
      break;
    case 4:
      GatherByMapsTyped<uint32_t>(in, in_dims, maps, fill, out);
      break;
    case 8:
      GatherByMapsTyped<uint64_t>(in, in_dims, maps, fill, out);
      break;
    case 16:
      GatherByMapsTyped<Bytes<16>>(in, in_dims, maps, fill, out);
      break;
    default:
      return absl::UnimplementedError(absl::StrCat("dtype ", DataTypeString(dtype)));
  }
  return absl::OkStatus();
}

// Every fixed-size dtype: data movement does not look at the values.
inline const std::vector<DataType>& DataMovementTypes() {
  static const auto* types = new std::vector<DataType>{
      DT_FLOAT, DT_DOUBLE, DT_HALF,   DT_BFLOAT16, DT_INT8, DT_INT16,     DT_INT32,     DT_INT64,
      DT_UINT8, DT_UINT16, DT_UINT32, DT_UINT64,   DT_BOOL, DT_COMPLEX64, DT_COMPLEX128};
  return *types;
}

}  // namespace array_extra
}  // namespace weir

#endif  // WEIR_KERNELS_CPU_ARRAY_EXTRA_KERNELS_H_
