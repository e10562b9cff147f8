// cuda_status.h - CUDA and cuBLAS error codes as absl::Status, for the GPU device and kernels.
//
// Only for code compiled with CUDA (WEIR_HAVE_CUDA). The message names the call and carries
// CUDA's own text, e.g. "/device:GPU:0: cudaMalloc(1048576 bytes) failed: out of memory
// (cudaErrorMemoryAllocation)". Out of memory maps to ResourceExhausted, a missing or unusable
// driver or device to Unavailable, anything else to Internal.
#ifndef WEIR_RUNTIME_GPU_CUDA_STATUS_H_
#define WEIR_RUNTIME_GPU_CUDA_STATUS_H_

#ifdef WEIR_HAVE_CUDA

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace weir {

// OK for cudaSuccess. Otherwise clears CUDA's last-error slot (cudaGetLastError) so that a
// recoverable error such as a failed cudaMalloc is not reported again by the next check.
absl::Status CudaStatus(cudaError_t error, absl::string_view call);
absl::Status CublasStatus(cublasStatus_t status, absl::string_view call);

}  // namespace weir

#endif  // WEIR_HAVE_CUDA
#endif  // WEIR_RUNTIME_GPU_CUDA_STATUS_H_
