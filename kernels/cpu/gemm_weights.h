// gemm_weights.h - Constant GEMM weights kept in a layout oneDNN's sgemm runs fast on.
//
// oneDNN 2.6's AVX2 sgemm multiplies small-M products (M up to a few hundred: an MLP's or a
// transformer's layers) without packing B, reading it in place. When B's leading dimension is a
// multiple of 64 floats (256 bytes) -- every layer width of 256, 512, 1024 ... -- its rows map to
// the same few cache sets and the kernel runs 1.4-2x slower: [64,784]x[784,512] 830 -> 545 us,
// [256,1024]x[1024,1024] 11.7 -> 5.7 ms on this machine's AMD EPYC, one thread. A kernel whose B
// is a Const therefore keeps a copy of it with the leading dimension padded by 16 floats, made
// once when its primitive is created.
#ifndef WEIR_KERNELS_CPU_GEMM_WEIGHTS_H_
#define WEIR_KERNELS_CPU_GEMM_WEIGHTS_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "oneapi/dnnl/dnnl.hpp"
#include "runtime/kernel.h"

namespace weir {

// Whether input `i` of the node is read straight from a Const node (its value never changes).
bool InputIsConst(const KernelConstruction& c, int i);

// The leading dimension (in floats) to store a matrix with `ld` at: `ld` itself, or ld + 16 when
// ld is a multiple of 64.
int64_t PaddedLeadingDim(int64_t ld);

// A row-major matrix of `rows` x `cols` floats read with leading dimension `ld`, copied to a new
// buffer with leading dimension `padded_ld` (>= cols); the padding is zero.
std::shared_ptr<const std::vector<float>> CopyWithLeadingDim(const float* src, int64_t rows,
                                                             int64_t cols, int64_t ld,
                                                             int64_t padded_ld);

// The plain oneDNN descriptors of a row-major [m,k] x [k,n] = [m,n] product, transposes
// expressed as strides (no copy), and the padded copy of b when `const_b` (b's data, given only
// when b is a Const) has a leading dimension PaddedLeadingDim changes; `b` then describes it.
struct GemmOperands {
  dnnl::memory::desc a, b, c;
  std::shared_ptr<const std::vector<float>> padded_b;
  // The buffer to bind to `b`: the padded copy, or the input tensor's data.
  void* BData(const Tensor& b_input) const {
    return padded_b != nullptr ? const_cast<float*>(padded_b->data())
                               : const_cast<void*>(b_input.raw_data());
  }
};
GemmOperands DescribeGemm(int64_t m, int64_t k, int64_t n, bool transpose_a, bool transpose_b,
                          const float* const_b);

}  // namespace weir

#endif  // WEIR_KERNELS_CPU_GEMM_WEIGHTS_H_
