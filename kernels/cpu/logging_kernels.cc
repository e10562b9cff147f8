// logging_kernels.cc - Assert on the CPU: nothing when the condition holds, otherwise an
// InvalidArgument error "assertion failed: [d0] [d1] ..." listing each data tensor the way
// TensorFlow's Assert does (its legacy summary: values separated by spaces, inner dimensions in
// brackets, strings unquoted and C-escaped, at most `summarize` values then "...", negative
// summarize = all), so messages match what TensorFlow users know. The executor prefixes the
// node's name and op.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "kernels/cpu/half.h"
#include "kernels/cpu/registry.h"

namespace weir {
namespace {

// The shortest of "%.<digits>g" and "%.<more>g" that reads back as the same value.
template <typename F>
std::string FloatElement(F v, int digits, int more) {
  char buf[40];
  snprintf(buf, sizeof(buf), "%.*g", digits, static_cast<double>(v));
  if (static_cast<F>(std::strtod(buf, nullptr)) != v) {
    snprintf(buf, sizeof(buf), "%.*g", more, static_cast<double>(v));
  }
  return buf;
}

std::string Element(float v) { return FloatElement(v, 6, 9); }
std::string Element(double v) { return FloatElement(v, 15, 17); }
std::string Element(bool v) { return v ? "1" : "0"; }
std::string Element(const std::string& v) { return absl::CEscape(v); }
std::string Element(int8_t v) { return absl::StrCat(static_cast<int>(v)); }
std::string Element(uint8_t v) { return absl::StrCat(static_cast<int>(v)); }
template <typename T>
std::string Element(T v) {
  return absl::StrCat(v);
}

struct HalfBits {
  uint16_t bits;
  bool bfloat16;
};
std::string Element(HalfBits h) {
  return Element(h.bfloat16 ? Bfloat16ToFloat(h.bits) : HalfToFloat(h.bits));
}

// Appends dimensions dim.. of the elements from *next on; stops once `limit` elements are out
// (a cut inside an inner row shows "...").
template <typename Get>
void AppendDims(const Get& get, const TensorShape& shape, int dim, int64_t limit, int64_t* next,
                std::string* out) {
  if (*next >= limit) return;
  const int64_t count = shape.dim(dim);
  if (dim == shape.rank() - 1) {
    for (int64_t i = 0; i < count; ++i) {
      if (*next >= limit) {
        if (dim > 0) out->append("...");
        return;
      }
      if (i > 0) out->push_back(' ');
      out->append(Element(get((*next)++)));
    }
    return;
  }
  for (int64_t i = 0; i < count && *next < limit; ++i) {
    out->push_back('[');
    AppendDims(get, shape, dim + 1, limit, next, out);
    out->push_back(']');
  }
}

template <typename Get>
std::string Summarize(const Get& get, const TensorShape& shape, int64_t summarize) {
  const int64_t n = shape.num_elements();
  const int64_t limit = summarize < 0 ? n : std::min(summarize, n);
  std::string out;
  if (shape.rank() == 0) {
    if (limit > 0) out = Element(get(0));
  } else {
    int64_t next = 0;
    AppendDims(get, shape, 0, limit, &next, &out);
  }
  if (n > limit) out.append("...");
  return out;
}

template <typename T>
std::string SummarizeAs(const Tensor& t, int64_t summarize) {
  const T* data = t.data<T>();
  return Summarize([data](int64_t i) -> const T& { return data[i]; }, t.shape(), summarize);
}

std::string SummarizeTensor(const Tensor& t, int64_t summarize) {
  switch (t.dtype()) {
    case DT_FLOAT: return SummarizeAs<float>(t, summarize);
    case DT_DOUBLE: return SummarizeAs<double>(t, summarize);
    case DT_INT32: return SummarizeAs<int32_t>(t, summarize);
    case DT_INT64: return SummarizeAs<int64_t>(t, summarize);
    case DT_INT16: return SummarizeAs<int16_t>(t, summarize);
    case DT_INT8: return SummarizeAs<int8_t>(t, summarize);
    case DT_UINT8: return SummarizeAs<uint8_t>(t, summarize);
    case DT_UINT16: return SummarizeAs<uint16_t>(t, summarize);
    case DT_UINT32: return SummarizeAs<uint32_t>(t, summarize);
    case DT_UINT64: return SummarizeAs<uint64_t>(t, summarize);
    case DT_BOOL: return SummarizeAs<bool>(t, summarize);
    case DT_STRING: return SummarizeAs<std::string>(t, summarize);
    case DT_HALF:
    case DT_BFLOAT16: {
      const uint16_t* bits = t.data<uint16_t>();
      const bool bf16 = t.dtype() == DT_BFLOAT16;
      return Summarize([bits, bf16](int64_t i) { return HalfBits{bits[i], bf16}; }, t.shape(),
                       summarize);
    }
    default:
      return absl::StrCat("<", DataTypeString(t.dtype()), " ", t.shape().ToString(), ">");
  }
}

class AssertKernel : public OpKernel {
 public:
  explicit AssertKernel(const KernelConstruction& c) : OpKernel(c) {
    c.GetAttr("summarize", &summarize_).IgnoreError();
  }
  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& condition = ctx->input(0);
    if (condition.rank() != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "condition has shape ", condition.shape().ToString(), ", expected a scalar"));
    }
    if (condition.data<bool>()[0]) return absl::OkStatus();
    std::string message = "assertion failed:";
    for (int i = 1; i < ctx->num_inputs(); ++i) {
      absl::StrAppend(&message, " [", SummarizeTensor(ctx->input(i), summarize_), "]");
    }
    return absl::InvalidArgumentError(message);
  }
  bool IsExpensive() const override { return false; }

 private:
  int64_t summarize_ = 3;
};

}  // namespace

void RegisterCpuLoggingKernels(KernelRegistry& registry) {
  // Reads its data only to print it, strings included.
  registry.Register({"Assert", kDeviceCpu, "", {}, MakeFactory<AssertKernel>(), true});
}

}  // namespace weir
