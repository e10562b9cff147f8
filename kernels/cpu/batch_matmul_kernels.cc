// batch_matmul_kernels.cc - BatchMatMul, BatchMatMulV2 and BatchMatMulV3 on the CPU: float32
// through oneDNN's batched matmul primitive, float64 through a plain loop (oneDNN has no f64
// matmul on CPU).
//
// Batch dimensions are first simplified: dimensions that are 1 on both sides are dropped and
// neighbours that broadcast the same way are merged ([2,5] x [2,5] becomes [10] x [10]), so the
// cache key is small and any NumPy broadcast becomes one oneDNN matmul whose batch dimensions
// are equal or 1 on each side, which oneDNN broadcasts itself. adj_x / adj_y are strides on the
// memory descriptors, so no copy is made. As in matmul.cc, primitives are cached per shape
// under a mutex and each execution gets its own scratchpad, so Compute may run concurrently.
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "kernels/cpu/onednn.h"
#include "kernels/cpu/registry.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace weir {
namespace {

using onednn::CpuEngine;
using onednn::ThreadStream;

std::string DimsToString(const std::vector<int64_t>& dims) {
  return absl::StrCat("[", absl::StrJoin(dims, ","), "]");
}

// The batch dimensions of one call, simplified: for each remaining dimension, its size in x,
// in y and in the output; an x or y size is either the output's or 1 (broadcast).
struct BatchLayout {
  std::vector<int64_t> x, y, out;
  int64_t count() const {
    int64_t n = 1;
    for (int64_t d : out) n *= d;
    return n;
  }
};

// Merges x's and y's batch dimensions (right-aligned, NumPy style) into `out_batch` and the
// simplified layout; fails naming both shapes when they do not broadcast.
absl::Status BroadcastBatch(const TensorShape& x, const TensorShape& y,
                            std::vector<int64_t>* out_batch, BatchLayout* layout) {
  const int x_batch = x.rank() - 2;
  const int y_batch = y.rank() - 2;
  const int rank = std::max(x_batch, y_batch);
  out_batch->assign(rank, 1);
  for (int i = 0; i < rank; ++i) {
    const int ix = x_batch - rank + i;
    const int iy = y_batch - rank + i;
    const int64_t dx = ix >= 0 ? x.dim(ix) : 1;
    const int64_t dy = iy >= 0 ? y.dim(iy) : 1;
    if (dx != dy && dx != 1 && dy != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "incompatible batch dimensions: input 0 has shape ", x.ToString(),
          ", input 1 has shape ", y.ToString(), " (batch dimension ", i, ": expected ", dx,
          " or 1, found ", dy, ")"));
    }
    const int64_t d = dx == 1 ? dy : dx;
    (*out_batch)[i] = d;
    if (d == 1) continue;
    // Merge with the previous dimension when both broadcast the same way.
    const bool x_full = dx == d;
    const bool y_full = dy == d;
    if (!layout->out.empty() && (layout->x.back() == layout->out.back()) == x_full &&
        (layout->y.back() == layout->out.back()) == y_full) {
      layout->x.back() *= dx;
      layout->y.back() *= dy;
      layout->out.back() *= d;
    } else {
      layout->x.push_back(dx);
      layout->y.push_back(dy);
      layout->out.push_back(d);
    }
  }
  if (layout->out.empty()) {
    layout->x = layout->y = layout->out = {1};
  }
  return absl::OkStatus();
}

// Row-major strides of `dims` followed by an [r, c] matrix of r*c elements; 1-sized batch
// dimensions get stride 0 so that broadcast offsets come out right in the float64 loop.
std::vector<int64_t> BatchStrides(const std::vector<int64_t>& dims, int64_t matrix_elements) {
  std::vector<int64_t> strides(dims.size());
  int64_t stride = matrix_elements;
  for (int i = static_cast<int>(dims.size()) - 1; i >= 0; --i) {
    strides[i] = dims[i] == 1 ? 0 : stride;
    stride *= dims[i];
  }
  return strides;
}

// C[b] = op(X[b]) * op(Y[b]) in float64, op being the transpose when adj is set.
void BatchMatMulLoop(const BatchLayout& layout, const double* x, const double* y, double* out,
                     int64_t m, int64_t k, int64_t n, bool adj_x, bool adj_y) {
  const std::vector<int64_t> x_strides = BatchStrides(layout.x, m * k);
  const std::vector<int64_t> y_strides = BatchStrides(layout.y, k * n);
  const int64_t batches = layout.count();
  const int rank = static_cast<int>(layout.out.size());
  for (int64_t b = 0; b < batches; ++b) {
    int64_t x_offset = 0, y_offset = 0, rest = b;
    for (int i = rank - 1; i >= 0; --i) {
      const int64_t index = rest % layout.out[i];
      rest /= layout.out[i];
      x_offset += index * x_strides[i];
      y_offset += index * y_strides[i];
    }
    const double* xb = x + x_offset;
    const double* yb = y + y_offset;
    double* ob = out + b * m * n;
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) ob[i * n + j] = 0.0;
      for (int64_t p = 0; p < k; ++p) {
        const double xv = adj_x ? xb[p * m + i] : xb[i * k + p];
        for (int64_t j = 0; j < n; ++j) {
          ob[i * n + j] += xv * (adj_y ? yb[j * k + p] : yb[p * n + j]);
        }
      }
    }
  }
}

class BatchMatMulKernel : public OpKernel {
 public:
  explicit BatchMatMulKernel(const KernelConstruction& c)
      : OpKernel(c), broadcast_(c.op() != "BatchMatMul"), dtype_(c.output_type(0)) {
    c.GetAttr("adj_x", &adj_x_).IgnoreError();
    c.GetAttr("adj_y", &adj_y_).IgnoreError();
  }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    const Tensor& y = ctx->input(1);
    for (int i = 0; i < 2; ++i) {
      const Tensor& t = ctx->input(i);
      if (t.rank() < 2) {
        return absl::InvalidArgumentError(absl::StrCat(
            "input ", i, " has shape ", t.shape().ToString(), ", expected rank >= 2"));
      }
    }
    const int64_t m = x.dim(x.rank() - (adj_x_ ? 1 : 2));
    const int64_t k = x.dim(x.rank() - (adj_x_ ? 2 : 1));
    const int64_t ky = y.dim(y.rank() - (adj_y_ ? 1 : 2));
    const int64_t n = y.dim(y.rank() - (adj_y_ ? 2 : 1));
    if (k != ky) {
      std::vector<std::string> expected(y.rank(), "?");
      expected[y.rank() - (adj_y_ ? 1 : 2)] = absl::StrCat(k);
      return absl::InvalidArgumentError(absl::StrCat(
          "input 1 has shape ", y.shape().ToString(), ", expected [",
          absl::StrJoin(expected, ","), "] (inner dimensions ", k, " vs ", ky, ")",
          adj_x_ ? ", with adj_x" : "", adj_y_ ? ", with adj_y" : ""));
    }
    if (!broadcast_) {
      std::vector<int64_t> xb(x.shape().dims().begin(), x.shape().dims().end() - 2);
      std::vector<int64_t> yb(y.shape().dims().begin(), y.shape().dims().end() - 2);
      if (xb != yb) {
        return absl::InvalidArgumentError(absl::StrCat(
            "input 1 has shape ", y.shape().ToString(), ", expected batch dimensions ",
            DimsToString(xb), " (as input 0), found ", DimsToString(yb),
            " (BatchMatMul does not broadcast, use BatchMatMulV2)"));
      }
    }
    std::vector<int64_t> out_dims;
    BatchLayout layout;
    if (auto s = BroadcastBatch(x.shape(), y.shape(), &out_dims, &layout); !s.ok()) return s;
    out_dims.push_back(m);
    out_dims.push_back(n);
    absl::StatusOr<Tensor*> output =
        ctx->allocate_output(0, dtype_, TensorShape(std::move(out_dims)));
    if (!output.ok()) return output.status();
    if ((*output)->num_elements() == 0) return absl::OkStatus();
    if (k == 0) {
      std::memset((*output)->raw_data(), 0, (*output)->TotalBytes());
      return absl::OkStatus();
    }
    if (dtype_ == DT_DOUBLE) {
      BatchMatMulLoop(layout, x.data<double>(), y.data<double>(), (*output)->data<double>(), m,
                      k, n, adj_x_, adj_y_);
      return absl::OkStatus();
    }
    return ComputeOneDnn(ctx, layout, m, k, n, x, y, *output);
  }

 private:
  struct Primitive {
    dnnl::matmul matmul;
    dnnl::memory::desc x, y, out, scratchpad;
    size_t scratchpad_bytes = 0;
  };
  // x batch dims, y batch dims, then m, k, n.
  using ShapeKey = std::vector<int64_t>;

  absl::Status ComputeOneDnn(KernelContext* ctx, const BatchLayout& layout, int64_t m, int64_t k,
                             int64_t n, const Tensor& x, const Tensor& y, Tensor* output) {
    if (layout.out.size() + 2 > DNNL_MAX_NDIMS) {
      return absl::UnimplementedError(absl::StrCat(
          "batch dimensions x ", DimsToString(layout.x), " and y ", DimsToString(layout.y),
          " need ", layout.out.size(), " broadcast dimensions, expected at most ",
          DNNL_MAX_NDIMS - 2));
    }
    const int team =
        onednn::UseIntraOpThreads(ctx->device(), 2.0 * static_cast<double>(output->num_elements()) * k);
    absl::StatusOr<Primitive> primitive = GetPrimitive(layout, m, k, n, team);
    if (!primitive.ok()) return primitive.status();
    absl::StatusOr<Tensor> scratch = onednn::AllocateScratch(ctx, primitive->scratchpad_bytes);
    if (!scratch.ok()) return scratch.status();
    const Tensor& scratchpad = *scratch;
    try {
      const dnnl::engine& engine = CpuEngine();
      dnnl::memory x_mem(primitive->x, engine, x.raw_data());
      dnnl::memory y_mem(primitive->y, engine, y.raw_data());
      dnnl::memory out_mem(primitive->out, engine, output->raw_data());
      dnnl::memory s_mem(primitive->scratchpad, engine, scratchpad.raw_data());
      dnnl::stream& stream = ThreadStream();
      primitive->matmul.execute(stream, {{DNNL_ARG_SRC, x_mem},
                                         {DNNL_ARG_WEIGHTS, y_mem},
                                         {DNNL_ARG_DST, out_mem},
                                         {DNNL_ARG_SCRATCHPAD, s_mem}});
      stream.wait();
    } catch (const dnnl::error& e) {
      return absl::InternalError(absl::StrCat("oneDNN batch matmul failed: ", e.what()));
    }
    return absl::OkStatus();
  }

  // A [batch..., rows, cols] descriptor over data stored as [batch..., rows, cols], or as
  // [batch..., cols, rows] when `transposed`.
  static dnnl::memory::desc MatrixDesc(const std::vector<int64_t>& batch, int64_t rows,
                                       int64_t cols, bool transposed) {
    dnnl::memory::dims dims(batch.begin(), batch.end());
    dims.push_back(rows);
    dims.push_back(cols);
    dnnl::memory::dims strides(dims.size());
    strides[dims.size() - 2] = transposed ? 1 : cols;
    strides[dims.size() - 1] = transposed ? rows : 1;
    int64_t stride = rows * cols;
    for (int i = static_cast<int>(batch.size()) - 1; i >= 0; --i) {
      strides[i] = stride;
      stride *= batch[i];
    }
    return dnnl::memory::desc(dims, dnnl::memory::data_type::f32, strides);
  }

  absl::StatusOr<Primitive> GetPrimitive(const BatchLayout& layout, int64_t m, int64_t k,
                                         int64_t n, int team) {
    ShapeKey key = layout.x;
    key.insert(key.end(), layout.y.begin(), layout.y.end());
    key.insert(key.end(), {m, k, n, team});
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    Primitive p;
    try {
      p.x = MatrixDesc(layout.x, m, k, adj_x_);
      p.y = MatrixDesc(layout.y, k, n, adj_y_);
      p.out = MatrixDesc(layout.out, m, n, false);
      dnnl::primitive_attr attr;
      attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(p.x, p.y, p.out), attr, CpuEngine());
      p.scratchpad = pd.scratchpad_desc();
      p.scratchpad_bytes = p.scratchpad.get_size();
      p.matmul = dnnl::matmul(pd);
    } catch (const dnnl::error& e) {
      return absl::InternalError(absl::StrCat(
          "oneDNN batch matmul for ", DimsToString(layout.x), " x ", DimsToString(layout.y),
          " batches of [", m, ",", k, "] x [", k, ",", n, "] could not be created: ", e.what()));
    }
    cache_.emplace(std::move(key), p);
    return p;
  }

  const bool broadcast_;
  const DataType dtype_;
  bool adj_x_ = false;
  bool adj_y_ = false;
  absl::Mutex mu_;
  absl::flat_hash_map<ShapeKey, Primitive> cache_ ABSL_GUARDED_BY(mu_);
};

// BatchMatMulV3 runs here only when x, y and the output share one dtype.
absl::StatusOr<std::unique_ptr<OpKernel>> MakeBatchMatMulV3Kernel(const KernelConstruction& c) {
  DataType ta = DT_INVALID, tb = DT_INVALID, tout = DT_INVALID;
  if (auto s = c.GetAttr("Ta", &ta); !s.ok()) return s;
  if (auto s = c.GetAttr("Tb", &tb); !s.ok()) return s;
  if (auto s = c.GetAttr("Tout", &tout); !s.ok()) return s;
  if (tb != ta || tout != ta) {
    return absl::UnimplementedError(absl::StrCat(
        "no CPU kernel for Ta=", DataTypeString(ta), ", Tb=", DataTypeString(tb),
        ", Tout=", DataTypeString(tout), " (expected Tb and Tout equal to Ta)"));
  }
  return std::unique_ptr<OpKernel>(new BatchMatMulKernel(c));
}

}  // namespace

void RegisterCpuBatchMatMulKernels(KernelRegistry& registry) {
  for (const char* op : {"BatchMatMul", "BatchMatMulV2"}) {
    registry.Register(
        {op, kDeviceCpu, "T", {DT_FLOAT, DT_DOUBLE}, MakeFactory<BatchMatMulKernel>()});
  }
  registry.Register(
      {"BatchMatMulV3", kDeviceCpu, "Ta", {DT_FLOAT, DT_DOUBLE}, MakeBatchMatMulV3Kernel});
}

}  // namespace weir
