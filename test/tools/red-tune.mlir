// red-tune's command-line contract (DESIGN.md §6, issue 15.3): the table of candidates with
// their verdicts and the choice; the choice stored in the compile cache and reused; bad input
// is a located error with exit code 1. (Run as a module until pyproject names the script.)
// RUN: rm -rf %t.cache

// A search: every candidate validated against the interpreter, timed, the fastest chosen.
// RUN: env RED_CACHE_DIR=%t.cache red-tune %s --inputs 1 --repeat 3 2>%t.progress | filecheck %s --check-prefix=SEARCH
// SEARCH:      {{^}}#  configuration {{ *}}median ms  final ms  verdict  max error{{$}}
// SEARCH-NEXT: {{^}}1  strict-fp=false opt=3{{.*}} ok {{.*}}
// SEARCH:      {{^}}{{[0-9]+}}  strict-fp=true opt=2{{.*}} ok {{.*}}
// SEARCH:      {{^}}@main: searched; chose #{{[0-9]+}} ({{.*}}): the fastest of {{[34]}} finalists (of {{[0-9]+}} validated candidates) measured again, alternating, at {{[0-9.]+}} ms{{.*}}; 0 rejected{{$}}
// SEARCH-NOT:  {{.}}
// RUN: filecheck %s --input-file %t.progress --check-prefix=PROGRESS
// PROGRESS: {{^}}red-tune: [1/{{[0-9]+}}] strict-fp=false opt=3

// The same module on the same machine: the stored choice, nothing compiled.
// RUN: env RED_CACHE_DIR=%t.cache red-tune %s 2>&1 | filecheck %s --check-prefix=REUSE
// REUSE-NOT: red-tune: [
// REUSE:     <- chosen
// REUSE:     {{^}}@main: stored choice reused; chose #

// --retune searches again and replaces the stored choice.
// RUN: env RED_CACHE_DIR=%t.cache red-tune %s --retune --inputs 1 --repeat 2 2>/dev/null | filecheck %s --check-prefix=RETUNE
// RETUNE: {{^}}@main: searched; chose #

// --json: the choice as red.compile(..., tune=True) applies it.
// RUN: env RED_CACHE_DIR=%t.cache red-tune %s --json | filecheck %s --check-prefix=JSON
// JSON: "cached": true,
// JSON: "complete": true,
// JSON: "function": "main",
// JSON: "pipeline": "red-pipeline{strict-fp={{true|false}}}",

// Bad input: located errors and flag errors, exit code 1, no traceback.
// RUN: not env RED_CACHE_DIR=%t.cache red-tune %s --function nope 2>&1 | filecheck %s --check-prefix=NOFN
// NOFN: {{^}}{{.*}}red-tune.mlir:{{[0-9]+}}:1: error: no function '@nope' in the module
// RUN: not env RED_CACHE_DIR=%t.cache red-tune %s --function helper 2>&1 | filecheck %s --check-prefix=PRIVATE
// PRIVATE: {{^}}{{.*}}red-tune.mlir:[[# @LINE + 16]]:1: error: '@helper' is private: red-tune tunes public functions (what red.compile exports)
// RUN: not red-tune %s --inputs 0 2>&1 | filecheck %s --check-prefix=INPUTS
// INPUTS: {{^}}error: --inputs expects a positive count, got 0{{$}}
// RUN: not red-tune %s --threads 2,two 2>&1 | filecheck %s --check-prefix=THREADS
// THREADS: {{^}}error: --threads expects positive integers separated by commas, got '2,two'{{$}}
// RUN: not red-tune %t.missing.mlir 2>&1 | filecheck %s --check-prefix=MISSING
// MISSING: {{^}}error: could not open input file '{{.*}}.missing.mlir': No such file or directory{{$}}
// MISSING-NOT: Traceback

// A·B·C: reassociation (strict-fp=false) computes 8x16·(16x16·16x4), strict-fp keeps the order.
func.func @main(%a: tensor<8x16xf32>, %b: tensor<16x16xf32>, %c: tensor<16x4xf32>) -> tensor<8x4xf32> {
  %ab = red.matmul %a, %b : tensor<8x16xf32>, tensor<16x16xf32> -> tensor<8x16xf32>
  %abc = red.matmul %ab, %c : tensor<8x16xf32>, tensor<16x4xf32> -> tensor<8x4xf32>
  func.return %abc : tensor<8x4xf32>
}

func.func private @helper(%x: tensor<4xf32>) -> tensor<4xf32> {
  func.return %x : tensor<4xf32>
}
