// gemm_weights.cc - Padded copies of constant GEMM weights (see gemm_weights.h).
#include "kernels/cpu/gemm_weights.h"

#include <algorithm>

#include "graph/graph.h"

namespace weir {

bool InputIsConst(const KernelConstruction& c, int i) {
  const Edge* e = c.node().input_edge(i);
  return e != nullptr && e->src->op() == "Const";
}

int64_t PaddedLeadingDim(int64_t ld) { return ld % 64 == 0 ? ld + 16 : ld; }

std::shared_ptr<const std::vector<float>> CopyWithLeadingDim(const float* src, int64_t rows,
                                                             int64_t cols, int64_t ld,
                                                             int64_t padded_ld) {
  auto out = std::make_shared<std::vector<float>>(static_cast<size_t>(rows * padded_ld), 0.f);
  for (int64_t r = 0; r < rows; ++r) {
    std::copy(src + r * ld, src + r * ld + cols, out->data() + r * padded_ld);
  }
  return out;
}

GemmOperands DescribeGemm(int64_t m, int64_t k, int64_t n, bool transpose_a, bool transpose_b,
                          const float* const_b) {
  using dt = dnnl::memory::data_type;
  using dims = dnnl::memory::dims;
  GemmOperands g;
  // Row-major a is [m,k] with strides {k,1}; transposed, the stored [k,m] reads as [m,k] with
  // strides {1,m}. Likewise b, stored as [k,n] or, transposed, [n,k].
  g.a = dnnl::memory::desc({m, k}, dt::f32, transpose_a ? dims{1, m} : dims{k, 1});
  const int64_t b_rows = transpose_b ? n : k, b_ld = transpose_b ? k : n;
  int64_t ld = b_ld;
  if (const_b != nullptr && PaddedLeadingDim(b_ld) != b_ld) {
    ld = PaddedLeadingDim(b_ld);
    g.padded_b = CopyWithLeadingDim(const_b, b_rows, b_ld, b_ld, ld);
  }
  g.b = dnnl::memory::desc({k, n}, dt::f32, transpose_b ? dims{1, ld} : dims{ld, 1});
  g.c = dnnl::memory::desc({m, n}, dt::f32, dims{n, 1});
  return g;
}

}  // namespace weir
