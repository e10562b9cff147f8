# cuda.bzl - cuda_library: compiles .cu files with nvcc into a cc_library.
#
#   cuda_library(name, srcs = [".cu" files], hdrs = [...], deps = [cc deps whose headers the .cu
#                files include], copts = [extra nvcc flags])
#
# Each .cu becomes one object through a genrule calling nvcc (sm_90 code plus compute_90 PTX,
# so an H100 runs it and newer GPUs JIT the PTX); the objects and hdrs form a cc_library that
# links cudart. Headers the .cu files include must be in hdrs or in the headers of deps.
# Without a CUDA toolkit (CUDA_AVAILABLE False) the library has the hdrs only: guard the callers
# with WEIR_HAVE_CUDA (defined by :cuda_enabled's users, see runtime/gpu/BUILD).

load("@local_cuda//:defs.bzl", "CUDA_AVAILABLE", "CUDA_PATH")

NVCC_FLAGS = [
    "-std=c++17",
    "-O3",
    "-Xcompiler",
    "-fPIC",
    "-gencode",
    "arch=compute_90,code=sm_90",
    "-gencode",
    "arch=compute_90,code=compute_90",
    "-DWEIR_HAVE_CUDA=1",
    "--expt-relaxed-constexpr",
]

def cuda_library(name, srcs, hdrs = [], deps = [], copts = [], **kwargs):
    if not CUDA_AVAILABLE:
        native.cc_library(name = name, hdrs = hdrs, deps = deps, **kwargs)
        return
    objs = []
    for src in srcs:
        obj = name + "_" + src.replace("/", "_").replace(".cu", ".o")
        native.genrule(
            name = obj.replace(".o", "_nvcc"),
            srcs = [src] + hdrs,
            outs = [obj],
            cmd = " ".join([CUDA_PATH + "/bin/nvcc"] + NVCC_FLAGS + copts + [
                "-I.",
                "-I$(GENDIR)",
                "-c",
                "$(location " + src + ")",
                "-o",
                "$@",
            ]),
        )
        objs.append(obj)
    native.cc_library(
        name = name,
        srcs = objs,
        hdrs = hdrs,
        deps = deps + ["@local_cuda//:cudart"],
        defines = ["WEIR_HAVE_CUDA=1"],
        **kwargs
    )
