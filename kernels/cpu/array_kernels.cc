// array_kernels.cc - Data movement on the CPU: Reshape, Shape, Transpose, ExpandDims,
// Squeeze, ConcatV2.
//
// Reshape, ExpandDims and Squeeze return a view sharing the input's buffer. Transpose and
// ConcatV2 move bytes, so one instantiation per element size serves every fixed-size dtype.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "kernels/cpu/parallel_for.h"
#include "kernels/cpu/registry.h"

namespace weir {
namespace {

std::string IntsToString(const std::vector<int64_t>& values) {
  return absl::StrCat("[", absl::StrJoin(values, ","), "]");
}

// The values of an int32 or int64 tensor (index arguments such as shape, perm and axis).
std::vector<int64_t> IndexValues(const Tensor& t) {
  std::vector<int64_t> out(t.num_elements());
  if (t.dtype() == DT_INT32) {
    for (size_t k = 0; k < out.size(); ++k) out[k] = t.data<int32_t>()[k];
  } else {
    for (size_t k = 0; k < out.size(); ++k) out[k] = t.data<int64_t>()[k];
  }
  return out;
}

// A scalar (or one-element) index input such as an axis.
absl::Status ScalarIndex(const KernelContext* ctx, int i, absl::string_view what,
                         int64_t* value) {
  const Tensor& t = ctx->input(i);
  if (t.rank() > 1 || t.num_elements() != 1) {
    return absl::InvalidArgumentError(absl::StrCat("input ", i, " (", what, ") has shape ",
                                                   t.shape().ToString(), ", expected a scalar"));
  }
  *value = IndexValues(t)[0];
  return absl::OkStatus();
}

// Checks `axis` against [-rank, rank) and returns it counted from the front.
absl::Status CanonicalAxis(int64_t axis, int rank, absl::string_view what, int* out) {
  if (axis < -rank || axis >= rank) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is ", axis, ", expected a value in [",
                                                   -rank, ", ", rank, ") for rank ", rank));
  }
  *out = static_cast<int>(axis < 0 ? axis + rank : axis);
  return absl::OkStatus();
}

class ReshapeKernel : public OpKernel {
 public:
  explicit ReshapeKernel(const KernelConstruction& c) : OpKernel(c) {}
  bool IsExpensive() const override { return false; }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& in = ctx->input(0);
    const Tensor& shape = ctx->input(1);
    if (shape.rank() != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input 1 (shape) has shape ", shape.shape().ToString(), ", expected rank 1"));
    }
    const std::vector<int64_t> target = IndexValues(shape);
    int inferred = -1;
    int64_t known_product = 1;
    for (size_t k = 0; k < target.size(); ++k) {
      const int64_t d = target[k];
      if (d == -1) {
        if (inferred >= 0) {
          return absl::InvalidArgumentError(absl::StrCat(
              "input 1 (shape) is ", IntsToString(target), ", expected at most one -1"));
        }
        inferred = static_cast<int>(k);
      } else if (d < -1) {
        return absl::InvalidArgumentError(absl::StrCat(
            "input 1 (shape) is ", IntsToString(target), ", expected sizes >= -1"));
      } else if (__builtin_mul_overflow(known_product, d, &known_product)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "input 1 (shape) is ", IntsToString(target), ", expected fewer than 2^63 elements"));
      }
    }
    const int64_t n = in.num_elements();
    std::vector<int64_t> out = target;
    if (inferred >= 0) {
      if (known_product == 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "cannot reshape ", in.shape().ToString(), " to ", IntsToString(target),
            ": the -1 is ambiguous when the other sizes multiply to 0"));
      }
      if (n % known_product != 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "cannot reshape ", in.shape().ToString(), " (", n, " elements) to ",
            IntsToString(target), ": ", n, " is not a multiple of ", known_product));
      }
      out[inferred] = n / known_product;
    } else if (known_product != n) {
      return absl::InvalidArgumentError(absl::StrCat("cannot reshape ", in.shape().ToString(),
                                                     " (", n, " elements) to ",
                                                     IntsToString(target), " (", known_product,
                                                     " elements)"));
    }
    ctx->set_output(0, in.Reshaped(TensorShape(std::move(out))));
    return absl::OkStatus();
  }
};

class ShapeKernel : public OpKernel {
 public:
  explicit ShapeKernel(const KernelConstruction& c)
      : OpKernel(c), out_type_(c.output_type(0)) {}
  bool IsExpensive() const override { return false; }

  absl::Status Compute(KernelContext* ctx) override {
    const TensorShape& shape = ctx->input(0).shape();
    absl::StatusOr<Tensor*> out = ctx->allocate_output(0, out_type_, TensorShape{shape.rank()});
    if (!out.ok()) return out.status();
    for (int k = 0; k < shape.rank(); ++k) {
      const int64_t d = shape.dim(k);
      if (out_type_ == DT_INT32) {
        if (d > INT32_MAX) {
          return absl::InvalidArgumentError(absl::StrCat(
              "input 0 has shape ", shape.ToString(), ": dimension ", k,
              " does not fit out_type int32 (use out_type int64)"));
        }
        (*out)->data<int32_t>()[k] = static_cast<int32_t>(d);
      } else {
        (*out)->data<int64_t>()[k] = d;
      }
    }
    return absl::OkStatus();
  }

 private:
  DataType out_type_;
};

// Fixed-size stand-ins for elements of 1, 2, 4, 8 and 16 bytes.
template <int kBytes>
struct Bytes {
  unsigned char b[kBytes];
};

template <typename E>
void TransposeElements(const Device* device, const Tensor& in, const std::vector<int>& perm,
                       Tensor* out) {
  const int rank = in.rank();
  std::vector<int64_t> in_strides(rank, 1);
  for (int k = rank - 2; k >= 0; --k) in_strides[k] = in_strides[k + 1] * in.dim(k + 1);
  // Output dimension k walks input dimension perm[k].
  std::vector<int64_t> out_dims(rank), strides(rank);
  for (int k = 0; k < rank; ++k) {
    out_dims[k] = in.dim(perm[k]);
    strides[k] = in_strides[perm[k]];
  }
  const E* src = static_cast<const E*>(in.raw_data());
  E* dst = static_cast<E*>(out->raw_data());
  const int64_t inner = out_dims[rank - 1];
  const int64_t inner_stride = strides[rank - 1];
  const int64_t rows = out->num_elements() / inner;
  // Output rows split over the intra-op threads, in chunks of whole cache lines of output.
  const int64_t grain = std::max<int64_t>(1, 64 / (inner * static_cast<int64_t>(sizeof(E))));
  ParallelFor(device, rows, kElementwiseCost * static_cast<double>(inner), grain,
              [&](int64_t row_begin, int64_t row_end) {
                absl::InlinedVector<int64_t, 8> index(rank, 0);
                int64_t offset = 0;
                int64_t rest = row_begin;
                for (int k = rank - 2; k >= 0; --k) {
                  index[k] = rest % out_dims[k];
                  rest /= out_dims[k];
                  offset += index[k] * strides[k];
                }
                E* row_dst = dst + row_begin * inner;
                for (int64_t row = row_begin; row < row_end; ++row) {
                  for (int64_t j = 0; j < inner; ++j) {
                    row_dst[j] = src[offset + j * inner_stride];
                  }
                  row_dst += inner;
                  // Advance the odometer over the outer output dimensions.
                  for (int k = rank - 2; k >= 0; --k) {
                    offset += strides[k];
                    if (++index[k] < out_dims[k]) break;
                    offset -= strides[k] * out_dims[k];
                    index[k] = 0;
                  }
                }
              });
}

class TransposeKernel : public OpKernel {
 public:
  explicit TransposeKernel(const KernelConstruction& c) : OpKernel(c) {}

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& in = ctx->input(0);
    const Tensor& perm_tensor = ctx->input(1);
    if (perm_tensor.rank() != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input 1 (perm) has shape ", perm_tensor.shape().ToString(), ", expected rank 1"));
    }
    const std::vector<int64_t> values = IndexValues(perm_tensor);
    const int rank = in.rank();
    if (static_cast<int>(values.size()) != rank) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input 1 (perm) is ", IntsToString(values), " with ", values.size(),
          " entries, expected ", rank, " (the rank of input 0)"));
    }
    std::vector<int> perm(rank);
    std::vector<bool> seen(rank, false);
    bool identity = true;
    for (int k = 0; k < rank; ++k) {
      const int64_t d = values[k];
      if (d < 0 || d >= rank) {
        return absl::InvalidArgumentError(absl::StrCat("input 1 (perm) is ", IntsToString(values),
                                                       ": entry ", k, " is ", d,
                                                       ", expected a value in [0, ", rank, ")"));
      }
      if (seen[d]) {
        return absl::InvalidArgumentError(absl::StrCat("input 1 (perm) is ", IntsToString(values),
                                                       ": ", d,
                                                       " appears twice, expected a permutation"));
      }
      seen[d] = true;
      perm[k] = static_cast<int>(d);
      identity &= d == k;
    }
    if (identity) {
      ctx->set_output(0, in);
      return absl::OkStatus();
    }
    TensorShape out_shape;
    for (int k = 0; k < rank; ++k) out_shape.AddDim(in.dim(perm[k]));
    absl::StatusOr<Tensor*> out = ctx->allocate_output(0, in.dtype(), out_shape);
    if (!out.ok()) return out.status();
    if (in.num_elements() == 0) return absl::OkStatus();
    switch (DataTypeSize(in.dtype())) {
      case 1: TransposeElements<Bytes<1>>(ctx->device(), in, perm, *out); break;
      case 2: TransposeElements<uint16_t>(ctx->device(), in, perm, *out); break;
      case 4: TransposeElements<uint32_t>(ctx->device(), in, perm, *out); break;
      case 8: TransposeElements<uint64_t>(ctx->device(), in, perm, *out); break;
      case 16: TransposeElements<Bytes<16>>(ctx->device(), in, perm, *out); break;
      default:
        return absl::UnimplementedError(
            absl::StrCat("transpose of dtype ", DataTypeString(in.dtype())));
    }
    return absl::OkStatus();
  }
};

class ExpandDimsKernel : public OpKernel {
 public:
  explicit ExpandDimsKernel(const KernelConstruction& c) : OpKernel(c) {}
  bool IsExpensive() const override { return false; }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& in = ctx->input(0);
    int64_t dim;
    if (auto s = ScalarIndex(ctx, 1, "dim", &dim); !s.ok()) return s;
    int axis;
    if (auto s = CanonicalAxis(dim, in.rank() + 1, "input 1 (dim)", &axis); !s.ok()) return s;
    std::vector<int64_t> dims = in.shape().dims();
    dims.insert(dims.begin() + axis, 1);
    ctx->set_output(0, in.Reshaped(TensorShape(std::move(dims))));
    return absl::OkStatus();
  }
};

class SqueezeKernel : public OpKernel {
 public:
  explicit SqueezeKernel(const KernelConstruction& c) : OpKernel(c) {
    c.GetAttr("squeeze_dims", &squeeze_dims_).IgnoreError();
  }
  bool IsExpensive() const override { return false; }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& in = ctx->input(0);
    const int rank = in.rank();
    std::vector<bool> drop(rank, squeeze_dims_.empty());
    if (squeeze_dims_.empty()) {
      for (int k = 0; k < rank; ++k) drop[k] = in.dim(k) == 1;
    }
    for (int64_t d : squeeze_dims_) {
      int axis;
      if (auto s = CanonicalAxis(d, rank, "squeeze_dims entry", &axis); !s.ok()) return s;
      if (in.dim(axis) != 1) {
        return absl::InvalidArgumentError(absl::StrCat(
            "cannot squeeze dimension ", d, " of input 0 with shape ", in.shape().ToString(),
            ": expected size 1, found ", in.dim(axis)));
      }
      drop[axis] = true;
    }
    TensorShape out;
    for (int k = 0; k < rank; ++k) {
      if (!drop[k]) out.AddDim(in.dim(k));
    }
    ctx->set_output(0, in.Reshaped(std::move(out)));
    return absl::OkStatus();
  }

 private:
  std::vector<int64_t> squeeze_dims_;
};

class ConcatV2Kernel : public OpKernel {
 public:
  explicit ConcatV2Kernel(const KernelConstruction& c) : OpKernel(c) {}

  absl::Status Compute(KernelContext* ctx) override {
    const int n = ctx->num_inputs() - 1;
    int64_t axis_value;
    if (auto s = ScalarIndex(ctx, n, "axis", &axis_value); !s.ok()) return s;
    const Tensor& first = ctx->input(0);
    const int rank = first.rank();
    if (rank == 0) {
      return absl::InvalidArgumentError(
          "input 0 is a scalar, expected rank >= 1 (use Pack to join scalars)");
    }
    int axis;
    if (auto s = CanonicalAxis(axis_value, rank, absl::StrCat("input ", n, " (axis)"), &axis);
        !s.ok()) {
      return s;
    }
    TensorShape out_shape = first.shape();
    int64_t axis_sum = 0;
    for (int i = 0; i < n; ++i) {
      const Tensor& t = ctx->input(i);
      bool match = t.rank() == rank;
      for (int k = 0; match && k < rank; ++k) match = k == axis || t.dim(k) == first.dim(k);
      if (!match) {
        std::vector<int64_t> expected = first.shape().dims();
        expected[axis] = PartialShape::kUnknownDim;
        return absl::InvalidArgumentError(absl::StrCat(
            "input ", i, " has shape ", t.shape().ToString(), ", expected ",
            PartialShape(expected).ToString(), " (dimensions other than axis ", axis,
            " must match input 0's ", first.shape().ToString(), ")"));
      }
      axis_sum += t.dim(axis);
    }
    out_shape.set_dim(axis, axis_sum);
    absl::StatusOr<Tensor*> out = ctx->allocate_output(0, first.dtype(), out_shape);
    if (!out.ok()) return out.status();
    if ((*out)->num_elements() == 0) return absl::OkStatus();
    // Each input contributes a contiguous chunk (its dims from `axis` on) per outer index.
    int64_t outer = 1;
    for (int k = 0; k < axis; ++k) outer *= first.dim(k);
    const size_t element_bytes = DataTypeSize(first.dtype());
    std::vector<size_t> chunk(n);
    for (int i = 0; i < n; ++i) {
      const Tensor& t = ctx->input(i);
      chunk[i] = outer == 0 ? 0 : t.num_elements() / outer * element_bytes;
    }
    char* dst = static_cast<char*>((*out)->raw_data());
    for (int64_t o = 0; o < outer; ++o) {
      for (int i = 0; i < n; ++i) {
        if (chunk[i] == 0) continue;
        std::memcpy(dst, static_cast<const char*>(ctx->input(i).raw_data()) + o * chunk[i],
                    chunk[i]);
        dst += chunk[i];
      }
    }
    return absl::OkStatus();
  }
};

// Every fixed-size dtype: data movement does not look at the values.
const std::vector<DataType>& DataMovementTypes() {
  static const auto* types = new std::vector<DataType>{
      DT_FLOAT,  DT_DOUBLE, DT_HALF,   DT_BFLOAT16,  DT_INT8,      DT_INT16,  DT_INT32,
      DT_INT64,  DT_UINT8,  DT_UINT16, DT_UINT32,    DT_UINT64,    DT_BOOL,   DT_COMPLEX64,
      DT_COMPLEX128};
  return *types;
}

}  // namespace

void RegisterCpuArrayKernels(KernelRegistry& registry) {
  const std::vector<DataType>& types = DataMovementTypes();
  registry.Register({"Reshape", kDeviceCpu, "T", types, MakeFactory<ReshapeKernel>()});
  registry.Register({"Shape", kDeviceCpu, "out_type", {DT_INT32, DT_INT64},
                     MakeFactory<ShapeKernel>()});
  registry.Register({"Transpose", kDeviceCpu, "T", types, MakeFactory<TransposeKernel>()});
  registry.Register({"ExpandDims", kDeviceCpu, "T", types, MakeFactory<ExpandDimsKernel>()});
  registry.Register({"Squeeze", kDeviceCpu, "T", types, MakeFactory<SqueezeKernel>()});
  registry.Register({"ConcatV2", kDeviceCpu, "T", types, MakeFactory<ConcatV2Kernel>()});
}

}  // namespace weir
