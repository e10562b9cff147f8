# cuda_configure.bzl - Finds the CUDA toolkit (default /usr/local/cuda, or $CUDA_PATH) and makes
# @local_cuda: the headers, cudart, cuBLAS and cuBLASLt, cuDNN as cc_library targets, nvcc for
# .cu files, and defs.bzl with CUDA_AVAILABLE and CUDNN_AVAILABLE. Without a toolkit the targets
# are empty and CUDA_AVAILABLE is False, so Weir still builds (every GPU path reports "no GPU").
#
# cuDNN is optional within a toolkit: CUDNN_AVAILABLE is True only when lib64/libcudnn.so and
# include/cudnn.h are both there. Without it :cudnn is empty and the cuDNN-based kernels
# (convolution, pooling, batch norm) are not built, so a bare toolkit still builds.
#
# A machine without a GPU can have the toolkit: nvcc compiles and links, the runtime reports no
# device at run time. That is what every development and CI machine here is.

def _cuda_configure_impl(ctx):
    path = ctx.os.environ.get("CUDA_PATH", "/usr/local/cuda")
    nvcc = ctx.path(path + "/bin/nvcc")
    available = nvcc.exists and ctx.path(path + "/include/cuda_runtime.h").exists
    cudnn_available = (available and ctx.path(path + "/lib64/libcudnn.so").exists and
                       ctx.path(path + "/include/cudnn.h").exists)
    if available:
        ctx.symlink(path + "/include", "include")
        ctx.symlink(path + "/bin", "bin")
        lib = path + "/lib64"
        ctx.file("BUILD", """
package(default_visibility = ["//visibility:public"])
cc_library(
    name = "headers",
    hdrs = glob(["include/**"]),
    includes = ["include"],
)
cc_library(
    name = "cudart",
    linkopts = ["-L{lib}", "-lcudart", "-Wl,-rpath,{lib}"],
    deps = [":headers"],
)
cc_library(
    name = "cublas",
    linkopts = ["-L{lib}", "-lcublasLt", "-lcublas", "-Wl,-rpath,{lib}"],
    deps = [":cudart"],
)
cc_library(
    name = "cudnn",
    linkopts = {cudnn_linkopts},
    deps = [":cudart"],
)
filegroup(name = "nvcc", srcs = ["bin/nvcc"])
""".format(
            lib = lib,
            # libcudnn.so loads its engine libraries (libcudnn_ops, _cnn, ...) itself at run
            # time from its own folder or LD_LIBRARY_PATH; only the front library is linked.
            cudnn_linkopts = repr(
                ["-L" + lib, "-lcudnn", "-Wl,-rpath," + lib] if cudnn_available else [],
            ),
        ))
    else:
        ctx.file("BUILD", """
package(default_visibility = ["//visibility:public"])
cc_library(name = "headers")
cc_library(name = "cudart")
cc_library(name = "cublas")
cc_library(name = "cudnn")
filegroup(name = "nvcc", srcs = [])
""")
    defs = "CUDA_AVAILABLE = {}\nCUDNN_AVAILABLE = {}\nCUDA_PATH = \"{}\"\n"
    ctx.file("defs.bzl", defs.format(
        "True" if available else "False",
        "True" if cudnn_available else "False",
        path,
    ))

cuda_configure = repository_rule(
    implementation = _cuda_configure_impl,
    environ = ["CUDA_PATH"],
    local = True,
)
