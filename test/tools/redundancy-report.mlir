// The redundancy report of canonicalize,cse,dce: per function, the metrics before and after
// and each redundancy removed with its location and saving (DESIGN.md §3), as text or JSON,
// on stderr or in a file.
// RUN: red-opt %s -p canonicalize,cse,dce --redundancy-report -o /dev/null 2>&1 | filecheck %s --check-prefix=CHECK-TEXT
// RUN: red-opt %s -p canonicalize,cse,dce --redundancy-report=text -o /dev/null 2>&1 | filecheck %s --check-prefix=CHECK-TEXT
// RUN: red-opt %s -p canonicalize,cse,dce --redundancy-report=json -o /dev/null 2>&1 | filecheck %s --check-prefix=CHECK-JSON
// RUN: red-opt %s -p canonicalize,cse,dce --redundancy-report=json --report-file %t 2>&1 | filecheck %s --check-prefix=CHECK-IR
// RUN: cat %t | filecheck %s --check-prefix=CHECK-JSON
// RUN: python -c "import json, sys; r = json.load(open(sys.argv[1])); fs = r['functions']; print(sorted(r), [f['name'] for f in fs], all({'name', 'before', 'after', 'findings'} <= set(f) for f in fs), {tuple(sorted(f[m])) for f in fs for m in ('before', 'after')}, all({'kind', 'loc', 'ops', 'flops_saved', 'bytes_saved'} <= set(x) for f in fs for x in f['findings']), sum(len(f['findings']) for f in fs))" %t | filecheck %s --check-prefix=CHECK-KEYS
// RUN: red-opt %s -p canonicalize,cse,dce --redundancy-report --report-file %t.txt -o /dev/null 2>&1 | filecheck %s --check-prefix=CHECK-BLANK --allow-empty
// RUN: filecheck %s --check-prefix=CHECK-TEXT < %t.txt

// With --report-file the IR goes to stdout and the report only to the file.
// CHECK-IR-NOT:      redundancy report
// CHECK-IR-NOT:      "functions"
// CHECK-IR-LABEL:    func.func @main
// CHECK-IR-NOT:      redundancy report
// CHECK-IR-NOT:      "functions"

// Nothing on stdout or stderr when both the IR and the report go to files.
// CHECK-BLANK-NOT: {{.}}

// CHECK-KEYS: ['functions'] ['main', 'unused_helper', 'heavy', 'caller'] True {('bytes', 'flops', 'flops_first_call', 'flops_per_call', 'ops', 'peak_bytes')} True 9

// @main before: the memo's exp (8 FLOPs x 32 elements, first call only), two equal matmuls
// (2·2·4·8 = 128 FLOPs each), x * 1 (8), a constant add (8), a dead exp (8 x 16) and two
// adds (8 each): 672 FLOPs on the first call, 416 on later calls. After: 400 and 144.
// CHECK-TEXT:        === red redundancy report ===
// CHECK-TEXT-NEXT:   @main
// CHECK-TEXT-NEXT:     ops                           13 ->          7 (-46.2%)
// CHECK-TEXT-NEXT:     FLOPs (first call)           672 ->        400 (-40.5%)
// CHECK-TEXT-NEXT:     FLOPs (later calls)          416 ->        144 (-65.4%)
// CHECK-TEXT-NEXT:     bytes moved
// CHECK-TEXT-NEXT:     peak live bytes
// CHECK-TEXT-NEXT:     findings:
// CHECK-TEXT-DAG:        identity             1 x, saving 8 FLOPs, 96 bytes
// CHECK-TEXT-DAG:        dead                 4 x, saving 128 FLOPs
// CHECK-TEXT-DAG:        foldable             1 x, saving 8 FLOPs, 96 bytes
// CHECK-TEXT-DAG:        duplicate            1 x, saving 128 FLOPs, 224 bytes

// CHECK-JSON:        {
// CHECK-JSON-NEXT:     "functions": [
// CHECK-JSON-NEXT:       {
// CHECK-JSON-NEXT:         "name": "main",
// CHECK-JSON-NEXT:         "before": {
// CHECK-JSON-NEXT:           "ops": 13,
// CHECK-JSON-NEXT:           "flops": 672,
// CHECK-JSON-NEXT:           "bytes": {{[0-9]+}},
// CHECK-JSON-NEXT:           "peak_bytes": {{[0-9]+}},
// CHECK-JSON-NEXT:           "flops_first_call": 672,
// CHECK-JSON-NEXT:           "flops_per_call": 416
// CHECK-JSON-NEXT:         },
// CHECK-JSON-NEXT:         "after": {
// CHECK-JSON-NEXT:           "ops": 7,
// CHECK-JSON-NEXT:           "flops": 400,
// CHECK-JSON-NEXT:           "bytes": {{[0-9]+}},
// CHECK-JSON-NEXT:           "peak_bytes": {{[0-9]+}},
// CHECK-JSON-NEXT:           "flops_first_call": 400,
// CHECK-JSON-NEXT:           "flops_per_call": 144
// CHECK-JSON-NEXT:         },
// CHECK-JSON-NEXT:         "findings": [
func.func @main(%x: tensor<2x8xf32>, %w: tensor<4x8xf32> {red.invariant}) -> tensor<2x4xf32> {
  %wt = red.memo(%w) : (tensor<4x8xf32>) -> tensor<8x4xf32> {
  ^bb0(%a: tensor<4x8xf32>):
    %t = red.transpose %a [1, 0] : tensor<4x8xf32> -> tensor<8x4xf32>
    %e = red.exp %t : tensor<8x4xf32>
    red.yield %e : tensor<8x4xf32>
  }
  %y = red.matmul %x, %wt : tensor<2x8xf32>, tensor<8x4xf32> -> tensor<2x4xf32>
  // CHECK-TEXT-DAG:    redundancy-report.mlir:[[# @LINE + 9]]:3: red.matmul [cse] -128 FLOPs  (same as the op at {{.*}}redundancy-report.mlir:[[# @LINE - 1]]:3)
  // CHECK-JSON:          "kind": "duplicate",
  // CHECK-JSON-NEXT:     "loc": "{{.*}}redundancy-report.mlir:[[# @LINE + 7]]:3",
  // CHECK-JSON-NEXT:     "ops": [
  // CHECK-JSON-NEXT:       "red.matmul"
  // CHECK-JSON-NEXT:     ],
  // CHECK-JSON-NEXT:     "flops_saved": 128,
  // CHECK-JSON-NEXT:     "bytes_saved": 224,
  // CHECK-JSON:          "pass": "cse",
  %z = red.matmul %x, %wt : tensor<2x8xf32>, tensor<8x4xf32> -> tensor<2x4xf32>
  %one = red.constant dense<1.0> : tensor<2x4xf32>
  // CHECK-TEXT-DAG:    redundancy-report.mlir:[[# @LINE + 1]]:3: red.mul [canonicalize] -8 FLOPs
  %z1 = red.mul %z, %one : tensor<2x4xf32>, tensor<2x4xf32> -> tensor<2x4xf32>
  %c1 = red.constant dense<2.0> : tensor<2x4xf32>
  %c2 = red.constant dense<3.0> : tensor<2x4xf32>
  // CHECK-TEXT-DAG:    redundancy-report.mlir:[[# @LINE + 1]]:3: red.add [canonicalize] -8 FLOPs
  %c = red.add %c1, %c2 : tensor<2x4xf32>, tensor<2x4xf32> -> tensor<2x4xf32>
  // CHECK-TEXT-DAG:    redundancy-report.mlir:[[# @LINE + 1]]:3: red.exp [canonicalize] -128 FLOPs
  %dead = red.exp %x : tensor<2x8xf32>
  %s = red.add %y, %z1 : tensor<2x4xf32>, tensor<2x4xf32> -> tensor<2x4xf32>
  %r = red.add %s, %c : tensor<2x4xf32>, tensor<2x4xf32> -> tensor<2x4xf32>
  func.return %r : tensor<2x4xf32>
}

// An unused private function: all of it is gone after dce.
// CHECK-TEXT:        @unused_helper
// CHECK-TEXT-NEXT:     ops                            1 ->          0 (-100.0%)
// CHECK-TEXT-NEXT:     FLOPs (first call)             8 ->          0 (-100.0%)
// CHECK-TEXT:          findings:
// CHECK-TEXT-NEXT:       dead                 1 x, saving 8 FLOPs, 96 bytes
// CHECK-TEXT-NEXT:         {{.*}}redundancy-report.mlir:[[# @LINE + 7]]:1: func.func [dce] -8 FLOPs  (private function '@unused_helper' is never used)
// CHECK-JSON:            "name": "unused_helper",
// CHECK-JSON:            "after": {
// CHECK-JSON-NEXT:         "ops": 0,
// CHECK-JSON:            "findings": [
// CHECK-JSON:              "kind": "dead",
// CHECK-JSON-NEXT:         "loc": "{{.*}}redundancy-report.mlir:[[# @LINE + 1]]:1",
func.func private @unused_helper(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %n = red.neg %x : tensor<2x4xf32>
  func.return %n : tensor<2x4xf32>
}

// -----

// A second chunk with --split-input-file adds its functions to the same report; a call
// merged by CSE saves what its callee costs.
// RUN: red-opt %s --split-input-file -p cse --redundancy-report -o /dev/null 2>&1 | filecheck %s --check-prefix=CHECK-SPLIT
// CHECK-SPLIT:       @main
// CHECK-SPLIT:       @unused_helper
// CHECK-SPLIT:       @heavy
// CHECK-SPLIT:       @caller
// CHECK-SPLIT:           duplicate            1 x, saving 1.024k FLOPs
// CHECK-SPLIT-NEXT:        redundancy-report.mlir:[[# @LINE + 7]]:3: func.call [cse] -1.024k FLOPs
func.func private @heavy(%x: tensor<8x8xf32>) -> tensor<8x8xf32> {
  %m = red.matmul %x, %x : tensor<8x8xf32>, tensor<8x8xf32> -> tensor<8x8xf32>
  func.return %m : tensor<8x8xf32>
}
func.func @caller(%x: tensor<8x8xf32>) -> tensor<8x8xf32> {
  %a = func.call @heavy(%x) : (tensor<8x8xf32>) -> tensor<8x8xf32>
  %b = func.call @heavy(%x) : (tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = red.add %a, %b : tensor<8x8xf32>, tensor<8x8xf32> -> tensor<8x8xf32>
  func.return %s : tensor<8x8xf32>
}
