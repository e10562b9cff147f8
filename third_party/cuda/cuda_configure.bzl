# cuda_configure.bzl - Finds the CUDA toolkit (default /usr/local/cuda, or $CUDA_PATH) and makes
# @local_cuda: the headers, cudart, cuBLAS and cuBLASLt as cc_library targets, nvcc for .cu
# files, and defs.bzl with CUDA_AVAILABLE. Without a toolkit the targets are empty and
# CUDA_AVAILABLE is False, so Weir still builds (every GPU path reports "no GPU").
#
# A machine without a GPU can have the toolkit: nvcc compiles and links, the runtime reports no
# device at run time. That is what every development and CI machine here is.

def _cuda_configure_impl(ctx):
    path = ctx.os.environ.get("CUDA_PATH", "/usr/local/cuda")
    nvcc = ctx.path(path + "/bin/nvcc")
    available = nvcc.exists and ctx.path(path + "/include/cuda_runtime.h").exists
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
filegroup(name = "nvcc", srcs = ["bin/nvcc"])
""".format(lib = lib))
    else:
        ctx.file("BUILD", """
package(default_visibility = ["//visibility:public"])
cc_library(name = "headers")
cc_library(name = "cudart")
cc_library(name = "cublas")
filegroup(name = "nvcc", srcs = [])
""")
    ctx.file("defs.bzl", "CUDA_AVAILABLE = {}\nCUDA_PATH = \"{}\"\n".format(
        "True" if available else "False",
        path,
    ))

cuda_configure = repository_rule(
    implementation = _cuda_configure_impl,
    environ = ["CUDA_PATH"],
    local = True,
)
