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

}  // namespace weir
