// golden_util.h - The golden-file driver for pass tests, in the spirit of MLIR's lit tests.
//
// A golden file is a GraphDef in text format whose comment lines carry the test:
//   # RUN: --passes cse            (or --level N; --keep NODE may repeat)
//   # CHECK: sum = AddV2(x, c)     (substring of a line of the output, in order)
//   # CHECK-NOT: dup               (substring on no line of the output)
// The output is compiler/optimize.h's CompactGraphText of the optimized graph, produced by the
// same OptimizeGraphDef driver `weir opt` uses, with the verifier on after every pass.
#ifndef WEIR_TESTS_COMPILER_GOLDEN_UTIL_H_
#define WEIR_TESTS_COMPILER_GOLDEN_UTIL_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/graph.pb.h"

namespace weir {
namespace testing {

struct GoldenResult {
  GraphDef input;
  GraphDef output;
  std::string text;  // CompactGraphText(output)
};

// Runs the file's RUN line and checks its CHECK lines. A failed check is an error quoting the
// directive and the whole output.
absl::StatusOr<GoldenResult> RunGoldenFile(const std::string& path);

// Checks the CHECK and CHECK-NOT lines of a golden file's `content` against `text`, as
// RunGoldenFile does, for tests whose output comes from another driver (a pass outside the
// pipeline). Errors start with `path` and quote the directive and the whole text.
absl::Status CheckDirectives(const std::string& path, absl::string_view content,
                             const std::string& text);

// The *.pbtxt files in a folder, sorted.
std::vector<std::string> GoldenFiles(const std::string& dir);

// Runs `original` and `optimized` through sessions at opt level 0 on the same random values
// for every Placeholder (unknown dims become 3) and compares every output of every node that
// nothing consumes in `original`. Graphs with random ops pass unchecked (no two runs agree). Errors name the output and the first differing element.
absl::Status CheckSameOutputs(const GraphDef& original, const GraphDef& optimized,
                              unsigned seed = 1);

// Runs every golden file in `dir` (RunGoldenFile, then CheckSameOutputs on its input and
// output). Fails naming the file when one fails, or when the folder has fewer than
// `min_files` files.
absl::Status CheckGoldenFolder(const std::string& dir, size_t min_files = 1);

}  // namespace testing
}  // namespace weir

#endif  // WEIR_TESTS_COMPILER_GOLDEN_UTIL_H_
