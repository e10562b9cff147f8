// fill_pad_kernels.cc - CPU kernels that create, tile, pad or scan tensors: Fill, ZerosLike,
// OnesLike, Range, Tile, OneHot, Pad, PadV2, MirrorPad, Cumsum, Where and TopKV2.
//
// Fill, ZerosLike, Tile, OneHot and the pads move bytes and serve every fixed-size dtype;
// OnesLike, Range, Cumsum, Where and TopKV2 look at values and are typed.
#include <algorithm>
#include <complex>
#include <numeric>
#include <string>
#include <vector>

#include "kernels/cpu/array_extra_kernels.h"
#include "kernels/cpu/registry.h"

namespace weir {
namespace array_extra {
namespace {

class FillKernel : public OpKernel {
 public:
  explicit FillKernel(const KernelConstruction& c) : OpKernel(c) {}

  absl::Status Compute(KernelContext* ctx) override {
    std::vector<int64_t> dims;
    if (auto s = VectorIndex(ctx, 0, "dims", &dims); !s.ok()) return s;
    for (int64_t d : dims) {
      if (d < 0) {
        return absl::InvalidArgumentError(absl::StrCat("input 0 (dims) is ", IntsToString(dims),
                                                       ", expected non-negative sizes"));
      }
    }
    const Tensor& value = ctx->input(1);
    if (value.rank() != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input 1 (value) has shape ", value.shape().ToString(), ", expected a scalar"));
    }
    absl::StatusOr<Tensor*> out = ctx->allocate_output(0, value.dtype(), TensorShape(dims));
    if (!out.ok()) return out.status();
    const size_t esize = DataTypeSize(value.dtype());
    char* dst = static_cast<char*>((*out)->raw_data());
    for (int64_t i = 0; i < (*out)->num_elements(); ++i) {
      std::memcpy(dst + i * esize, value.raw_data(), esize);
    }
    return absl::OkStatus();
  }
};

// ZerosLike (all-zero bytes are zero in every fixed-size dtype) and OnesLike.
class ConstantLikeKernel : public OpKernel {
 public:
  explicit ConstantLikeKernel(const KernelConstruction& c)
      : OpKernel(c), ones_(c.op() == "OnesLike") {}
  bool IsExpensive() const override { return false; }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& in = ctx->input(0);
    absl::StatusOr<Tensor*> out = ctx->allocate_output(0, in.dtype(), in.shape());
    if (!out.ok()) return out.status();
    if ((*out)->num_elements() == 0) return absl::OkStatus();
    std::memset((*out)->raw_data(), 0, (*out)->TotalBytes());
    if (!ones_) return absl::OkStatus();
    // One's bytes, little-endian; complex numbers are (1, 0), so the zero tail stays.
    unsigned char one[8] = {0};
    size_t one_bytes = DataTypeSize(in.dtype());
    switch (in.dtype()) {
      case DT_FLOAT:
      case DT_COMPLEX64: {
        float f = 1;
        std::memcpy(one, &f, 4);
        one_bytes = 4;
        break;
      }
      case DT_DOUBLE:
      case DT_COMPLEX128: {
        double d = 1;
        std::memcpy(one, &d, 8);
        one_bytes = 8;
        break;
      }
      case DT_HALF:
        one[1] = 0x3C;
        break;
      case DT_BFLOAT16:
        one[1] = 0x3F;
        one[0] = 0x80;
        break;
      default:
        one[0] = 1;
        break;  // integers and bool
    }
    const size_t esize = DataTypeSize(in.dtype());
    char* dst = static_cast<char*>((*out)->raw_data());
    for (int64_t i = 0; i < in.num_elements(); ++i) std::memcpy(dst + i * esize, one, one_bytes);
    return absl::OkStatus();
  }

 private:
  bool ones_;
};

template <typename T>
class RangeKernel : public OpKernel {
 public:
  explicit RangeKernel(const KernelConstruction& c) : OpKernel(c) {}

  absl::Status Compute(KernelContext* ctx) override {
    T v[3];
    const char* names[3] = {"start", "limit", "delta"};
    for (int i = 0; i < 3; ++i) {
      const Tensor& t = ctx->input(i);
      if (t.rank() != 0) {
        return absl::InvalidArgumentError(absl::StrCat("input ", i, " (", names[i], ") has shape ",
                                                       t.shape().ToString(),
                                                       ", expected a scalar"));
      }
      v[i] = t.data<T>()[0];
    }
    const T start = v[0], limit = v[1], delta = v[2];
    if (delta == T(0)) return absl::InvalidArgumentError("delta is 0, expected non-zero");
    if (delta > T(0) ? start > limit : start < limit) {
      return absl::InvalidArgumentError(absl::StrCat(
          "start is ", double(start), " and limit ", double(limit), ", expected start ",
          delta > T(0) ? "<=" : ">=", " limit when delta is ", double(delta)));
    }
    int64_t size;
    if constexpr (std::is_integral_v<T>) {
      const int64_t span = std::abs(int64_t(limit) - int64_t(start));
      const int64_t step = std::abs(int64_t(delta));
      size = (span + step - 1) / step;
    } else {
      const double n = std::ceil(std::abs((double(limit) - double(start)) / double(delta)));
      if (!(n < 9.2e18)) {
        return absl::InvalidArgumentError(
            absl::StrCat("range of ", n, " elements, expected fewer than 2^63"));
      }
      size = static_cast<int64_t>(n);
    }
    absl::StatusOr<Tensor*> out =
        ctx->allocate_output(0, DataTypeToEnum<T>::value, TensorShape{size});
    if (!out.ok()) return out.status();
    T* dst = (*out)->template data<T>();
    T value = start;  // accumulated, as TensorFlow does
    for (int64_t i = 0; i < size; ++i) {
      dst[i] = value;
      value += delta;
    }
    return absl::OkStatus();
  }
};

class TileKernel : public OpKernel {
 public:
  explicit TileKernel(const KernelConstruction& c) : OpKernel(c) {}

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& in = ctx->input(0);
    std::vector<int64_t> mult;
    if (auto s = VectorIndex(ctx, 1, "multiples", &mult); !s.ok()) return s;
    if (static_cast<int>(mult.size()) != in.rank()) {
      return absl::InvalidArgumentError(absl::StrCat("input 1 (multiples) is ", IntsToString(mult),
                                                     ", expected ", in.rank(),
                                                     " entries (the rank of input 0)"));
    }
    std::vector<std::vector<int64_t>> maps(in.rank());
    TensorShape out_shape;
    for (int k = 0; k < in.rank(); ++k) {
      if (mult[k] < 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "input 1 (multiples) is ", IntsToString(mult), ", expected non-negative multiples"));
      }
      const int64_t d = in.dim(k);
      maps[k].resize(d * mult[k]);
      for (int64_t j = 0; j < d * mult[k]; ++j) maps[k][j] = j % d;
      out_shape.AddDim(d * mult[k]);
    }
    absl::StatusOr<Tensor*> out = ctx->allocate_output(0, in.dtype(), out_shape);
    if (!out.ok()) return out.status();
    if ((*out)->num_elements() == 0) return absl::OkStatus();
    return GatherByMaps(in.dtype(), in.raw_data(), in.shape().dims(), maps, nullptr,
                        (*out)->raw_data());
  }
};

// Indices outside [0, depth) (such as -1 for padding) give a row of off_value, as in
// TensorFlow.
class OneHotKernel : public OpKernel {
 public:
  explicit OneHotKernel(const KernelConstruction& c) : OpKernel(c) {
    c.GetAttr("axis", &axis_).IgnoreError();
  }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& indices = ctx->input(0);
    int64_t depth;
    if (auto s = ScalarIndex(ctx, 1, "depth", &depth); !s.ok()) return s;
    if (depth < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("input 1 (depth) is ", depth, ", expected a non-negative value"));
    }
    for (int i : {2, 3}) {
      if (ctx->input(i).rank() != 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("input ", i, " (", i == 2 ? "on_value" : "off_value", ") has shape ",
                         ctx->input(i).shape().ToString(), ", expected a scalar"));
      }
    }
    if (axis_ < -1 || axis_ > indices.rank()) {
      return absl::InvalidArgumentError(absl::StrCat("axis is ", axis_,
                                                     ", expected a value in [-1, ", indices.rank(),
                                                     "] for indices of rank ", indices.rank()));
    }
    const int axis = axis_ < 0 ? indices.rank() : static_cast<int>(axis_);
    std::vector<int64_t> dims = indices.shape().dims();
    const int64_t prefix = Product(dims, 0, axis);
    const int64_t suffix = Product(dims, axis, dims.size());
    dims.insert(dims.begin() + axis, depth);
    const DataType dtype = ctx->input(2).dtype();
    absl::StatusOr<Tensor*> out = ctx->allocate_output(0, dtype, TensorShape(dims));
    if (!out.ok()) return out.status();
    const std::vector<int64_t> index = IndexValues(indices);
    const size_t esize = DataTypeSize(dtype);
    const char* on = static_cast<const char*>(ctx->input(2).raw_data());
    const char* off = static_cast<const char*>(ctx->input(3).raw_data());
    char* dst = static_cast<char*>((*out)->raw_data());
    for (int64_t p = 0; p < prefix; ++p) {
      for (int64_t d = 0; d < depth; ++d) {
        for (int64_t s = 0; s < suffix; ++s) {
          std::memcpy(dst, index[p * suffix + s] == d ? on : off, esize);
          dst += esize;
        }
      }
    }
    return absl::OkStatus();
  }

 private:
  int64_t axis_ = -1;
};

// Pad, PadV2 and MirrorPad.
class PadKernel : public OpKernel {
 public:
  explicit PadKernel(const KernelConstruction& c)
      : OpKernel(c), constant_input_(c.op() == "PadV2") {
    if (c.op() == "MirrorPad") {
      std::string mode;
      c.GetAttr("mode", &mode).IgnoreError();
      mirror_ = mode == "REFLECT" ? 1 : 2;
    }
  }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& in = ctx->input(0);
    const Tensor& paddings = ctx->input(1);
    const int rank = in.rank();
    if (paddings.rank() != 2 || paddings.dim(0) != rank || paddings.dim(1) != 2) {
      return absl::InvalidArgumentError(absl::StrCat("input 1 (paddings) has shape ",
                                                     paddings.shape().ToString(), ", expected [",
                                                     rank, ",2]"));
    }
    const std::vector<int64_t> pads = IndexValues(paddings);
    unsigned char fill[16] = {0};
    if (constant_input_) {
      if (ctx->input(2).rank() != 0) {
        return absl::InvalidArgumentError(absl::StrCat("input 2 (constant_values) has shape ",
                                                       ctx->input(2).shape().ToString(),
                                                       ", expected a scalar"));
      }
      std::memcpy(fill, ctx->input(2).raw_data(), DataTypeSize(in.dtype()));
    }
    std::vector<std::vector<int64_t>> maps(rank);
    TensorShape out_shape;
    for (int k = 0; k < rank; ++k) {
      const int64_t d = in.dim(k), before = pads[2 * k], after = pads[2 * k + 1];
      const int64_t limit = mirror_ == 1 ? d - 1 : d;
      if (before < 0 || after < 0 || (mirror_ != 0 && (before > limit || after > limit))) {
        return absl::InvalidArgumentError(absl::StrCat(
            "paddings [", before, ",", after, "] of dimension ", k, " (size ", d,
            "), expected values in [0, ", mirror_ != 0 ? absl::StrCat(limit, "]") : "inf)"));
      }
      const int64_t n = d + before + after;
      maps[k].resize(n);
      for (int64_t j = 0; j < n; ++j) {
        int64_t x = j - before;
        if (x < 0) {
          x = mirror_ == 0 ? -1 : mirror_ == 1 ? -x : -x - 1;
        } else if (x >= d) {
          x = mirror_ == 0 ? -1 : mirror_ == 1 ? 2 * (d - 1) - x : 2 * d - 1 - x;
        }
        maps[k][j] = x;
      }
      out_shape.AddDim(n);
    }
    absl::StatusOr<Tensor*> out = ctx->allocate_output(0, in.dtype(), out_shape);
    if (!out.ok()) return out.status();
    if ((*out)->num_elements() == 0) return absl::OkStatus();
    if (in.num_elements() == 0) {
      // Everything is padding; point the maps away from the (empty) input.
      for (auto& m : maps) std::fill(m.begin(), m.end(), -1);
    }
    return GatherByMaps(in.dtype(), in.raw_data(), in.shape().dims(), maps, fill,
                        (*out)->raw_data());
  }

 private:
  bool constant_input_;
  int mirror_ = 0;  // 0: constant, 1: REFLECT, 2: SYMMETRIC
};

template <typename T>
class CumsumKernel : public OpKernel {
 public:
  explicit CumsumKernel(const KernelConstruction& c) : OpKernel(c) {
    c.GetAttr("exclusive", &exclusive_).IgnoreError();
    c.GetAttr("reverse", &reverse_).IgnoreError();
  }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& in = ctx->input(0);
    int64_t axis_value;
    if (auto s = ScalarIndex(ctx, 1, "axis", &axis_value); !s.ok()) return s;
    if (in.rank() == 0) {
      return absl::InvalidArgumentError("input 0 is a scalar, expected rank >= 1");
    }
    int axis;
    if (auto s = CanonicalAxis(axis_value, in.rank(), "input 1 (axis)", &axis); !s.ok()) return s;
    absl::StatusOr<Tensor*> out = ctx->allocate_output(0, in.dtype(), in.shape());
    if (!out.ok()) return out.status();
    const DimsView dims = in.shape().dims();
    const int64_t outer = Product(dims, 0, axis), n = dims[axis];
    const int64_t inner = Product(dims, axis + 1, dims.size());
    const T* src = in.data<T>();
    T* dst = (*out)->template data<T>();
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        T sum = T(0);
        for (int64_t step = 0; step < n; ++step) {
          const int64_t j = reverse_ ? n - 1 - step : step;
          const int64_t at = (o * n + j) * inner + i;
          if (exclusive_) {
            dst[at] = sum;
            sum += src[at];
          } else {
            sum += src[at];
            dst[at] = sum;
          }
        }
      }
    }
    return absl::OkStatus();
  }

 private:
  bool exclusive_ = false;
  bool reverse_ = false;
};

template <typename T>
class WhereKernel : public OpKernel {
 public:
  explicit WhereKernel(const KernelConstruction& c) : OpKernel(c) {}

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& in = ctx->input(0);
    const T* src = in.data<T>();
    std::vector<int64_t> hits;
    for (int64_t i = 0; i < in.num_elements(); ++i) {
      if (src[i] != T(0)) hits.push_back(i);
    }
    const int rank = in.rank();
    absl::StatusOr<Tensor*> out =
        ctx->allocate_output(0, DT_INT64, TensorShape{static_cast<int64_t>(hits.size()), rank});
    if (!out.ok()) return out.status();
    int64_t* dst = (*out)->template data<int64_t>();
    for (int64_t flat : hits) {
      for (int k = rank - 1; k >= 0; --k) {
        dst[k] = flat % in.dim(k);
        flat /= in.dim(k);
      }
      dst += rank;
    }
    return absl::OkStatus();
  }
};

template <typename T>
class TopKKernel : public OpKernel {
 public:
  explicit TopKKernel(const KernelConstruction& c) : OpKernel(c), index_type_(c.output_type(1)) {}

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& in = ctx->input(0);
    int64_t k;
    if (auto s = ScalarIndex(ctx, 1, "k", &k); !s.ok()) return s;
    if (in.rank() < 1) return absl::InvalidArgumentError("input 0 is a scalar, expected rank >= 1");
    const int64_t n = in.dim(in.rank() - 1);
    if (k < 0 || k > n) {
      return absl::InvalidArgumentError(
          absl::StrCat("input 1 (k) is ", k, ", expected a value in [0, ", n,
                       "] (the last dimension of input 0 ", in.shape().ToString(), ")"));
    }
    TensorShape out_shape = in.shape();
    out_shape.set_dim(in.rank() - 1, k);
    absl::StatusOr<Tensor*> values = ctx->allocate_output(0, in.dtype(), out_shape);
    if (!values.ok()) return values.status();
    absl::StatusOr<Tensor*> indices = ctx->allocate_output(1, index_type_, out_shape);
    if (!indices.ok()) return indices.status();
    const int64_t rows = n == 0 ? 0 : in.num_elements() / n;
    std::vector<int64_t> order(n);
    for (int64_t r = 0; r < rows; ++r) {
      const T* row = in.data<T>() + r * n;
      std::iota(order.begin(), order.end(), 0);
      // Larger first; equal values keep the lower index first, as TensorFlow does.
      std::partial_sort(order.begin(), order.begin() + k, order.end(), [row](int64_t a, int64_t b) {
        return row[a] > row[b] || (!(row[b] > row[a]) && a < b);
      });
      for (int64_t j = 0; j < k; ++j) {
        (*values)->template data<T>()[r * k + j] = row[order[j]];
        switch (index_type_) {
          case DT_INT16:
            (*indices)->template data<int16_t>()[r * k + j] = order[j];
            break;
          case DT_INT64:
            (*indices)->template data<int64_t>()[r * k + j] = order[j];
            break;
          default:
            (*indices)->template data<int32_t>()[r * k + j] = order[j];
            break;
        }
      }
    }
    return absl::OkStatus();
  }

 private:
  DataType index_type_;
};

template <template <typename> class Kernel, typename... Ts>
void RegisterTyped(KernelRegistry& registry, const char* op, const char* type_attr) {
  (registry.Register(
       {op, kDeviceCpu, type_attr, {DataTypeToEnum<Ts>::value}, MakeFactory<Kernel<Ts>>()}),
   ...);
}

}  // namespace

void RegisterFillPadKernels(KernelRegistry& registry) {
  const std::vector<DataType>& types = DataMovementTypes();
  registry.Register({"Fill", kDeviceCpu, "T", types, MakeFactory<FillKernel>()});
  registry.Register({"ZerosLike", kDeviceCpu, "T", types, MakeFactory<ConstantLikeKernel>()});
  registry.Register({"OnesLike", kDeviceCpu, "T", types, MakeFactory<ConstantLikeKernel>()});
  RegisterTyped<RangeKernel, float, double, int32_t, int64_t, int8_t, int16_t, uint16_t, uint32_t>(
      registry, "Range", "Tidx");
  registry.Register({"Tile", kDeviceCpu, "T", types, MakeFactory<TileKernel>()});
  registry.Register({"OneHot", kDeviceCpu, "T", types, MakeFactory<OneHotKernel>()});
  registry.Register({"Pad", kDeviceCpu, "T", types, MakeFactory<PadKernel>()});
  registry.Register({"PadV2", kDeviceCpu, "T", types, MakeFactory<PadKernel>()});
  registry.Register({"MirrorPad", kDeviceCpu, "T", types, MakeFactory<PadKernel>()});
  RegisterTyped<CumsumKernel, float, double, int32_t, int64_t, int8_t, int16_t, uint8_t, uint16_t,
                uint32_t, uint64_t>(registry, "Cumsum", "T");
  RegisterTyped<WhereKernel, bool, float, double, int32_t, int64_t, int8_t, int16_t, uint8_t,
                uint16_t, uint32_t, uint64_t>(registry, "Where", "T");
  RegisterTyped<TopKKernel, float, double, int32_t, int64_t, int8_t, int16_t, uint8_t, uint16_t,
                uint32_t, uint64_t>(registry, "TopKV2", "T");
}

}  // namespace array_extra
}  // namespace weir
