// --verify-equivalence[=N]: after every pass the interpreter runs each public function on N
// seeded random inputs and compares with the input module; a divergence names the pass,
// the function and the error, and exits 1.
// RUN: red-opt %s -p canonicalize,cse,dce --verify-equivalence 2>&1 | filecheck %s
// RUN: red-opt %s -p canonicalize,cse,dce --verify-equivalence=5 2>&1 | filecheck %s
// RUN: red-opt %s -p 'canonicalize{fast-math=true},cse,dce' --verify-equivalence=1 2>&1 | filecheck %s
// RUN: not red-opt %s -p test-miscompile --verify-equivalence 2>&1 | filecheck %s --check-prefix=MISCOMPILE
// RUN: not red-opt %s -p canonicalize,test-miscompile,cse --verify-equivalence=1 2>&1 | filecheck %s --check-prefix=MISCOMPILE
// RUN: red-opt %s -p test-miscompile 2>&1 | filecheck %s --check-prefix=UNCHECKED
// With its time budget spent (0 s here), the passes are checked together at the end: the
// miscompile is still caught, and the error names every pass since the last check.
// RUN: not red-opt %s -p canonicalize,test-miscompile,cse --verify-equivalence=1 --verify-equivalence-budget=0 -o %t.out 2>&1 | filecheck %s --check-prefix=BUDGET
// RUN: not red-opt %s -p cse --verify-equivalence-budget=-1 2>&1 | filecheck %s --check-prefix=BAD-BUDGET
// BUDGET:     verify-equivalence.mlir:1:1: remark: --verify-equivalence spent its 0 s budget (0 passes checked, 0 unchanged); the passes that follow are checked together at the end
// BUDGET:     verify-equivalence.mlir:[[# @LINE + 38]]:1: error: equivalence check failed after passes 'canonicalize', 'test-miscompile', 'cse' (checked together: the --verify-equivalence budget was spent): '@with_add' result #0 differs from the input module on the first call
// BUDGET-NOT: func.func
// BAD-BUDGET: {{^}}error: --verify-equivalence-budget expects seconds >= 0, got -1

// The equivalent pipeline prints the optimized module and no error; a function with a
// scalar argument cannot get random inputs, and one the interpreter cannot run has no
// reference results: both are skipped with a warning.
// CHECK:       warning: --verify-equivalence skips '@scalar_argument': argument #0 has non-tensor type 'f32'
// CHECK-NEXT:  verify-equivalence.mlir:[[# @LINE + 21]]:1: warning: --verify-equivalence skips '@uninterpretable': the input module fails at run time: {{.*}}verify-equivalence.mlir:[[# @LINE + 22]]:3: 'red.constant' op failed at run time: element type 'bf16' is not supported
// CHECK-NOT:   error
// CHECK-LABEL: func.func @no_add
// CHECK-LABEL: func.func @scalar_argument
// CHECK-LABEL: func.func @with_add
// CHECK-NOT:   red.mul
// CHECK-NOT:   error

// Without the check, the miscompile goes unnoticed.
// UNCHECKED:     red.sub
// UNCHECKED-NOT: error

func.func @no_add(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>) -> tensor<4x8xf32> {
  %a = red.matmul %x, %w : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  %b = red.matmul %x, %w : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  %m = red.mul %a, %b : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  func.return %m : tensor<4x8xf32>
}
func.func @scalar_argument(%s: f32) -> f32 {
  func.return %s : f32
}
func.func @uninterpretable(%x: tensor<2xf32>) -> tensor<2xbf16> {
  %c = red.constant dense<1.0> : tensor<2xbf16>
  func.return %c : tensor<2xbf16>
}
// The miscompiled function is named at its location, with the pass and the error; the
// others pass, and no IR is printed.
// MISCOMPILE-NOT: '@no_add'
// MISCOMPILE:     verify-equivalence.mlir:[[# @LINE + 2]]:1: error: equivalence check failed after pass 'test-miscompile': '@with_add' result #0 differs from the input module on the first call: max abs error {{[0-9.]+}} (rtol 0.0001, atol {{.*}})
// MISCOMPILE-NOT: func.func
func.func @with_add(%x: tensor<4x8xf32>, %y: tensor<8xf32>) -> tensor<4x8xf32> {
  %one = red.constant dense<1.0> : tensor<4x8xf32>
  %x1 = red.mul %x, %one : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %t = red.transpose %x1 [1, 0] : tensor<4x8xf32> -> tensor<8x4xf32>
  %u = red.transpose %t [1, 0] : tensor<8x4xf32> -> tensor<4x8xf32>
  %s = red.add %u, %y : tensor<4x8xf32>, tensor<8xf32> -> tensor<4x8xf32>
  %dead = red.exp %s : tensor<4x8xf32>
  func.return %s : tensor<4x8xf32>
}

// The example models survive canonicalize,cse,dce under the check.
// RUN: red-opt %examples/gpt_decoder.mlir -p canonicalize,cse,dce --verify-equivalence=1 2>&1 | filecheck %s --check-prefix=EXAMPLE
// RUN: red-opt %examples/seed_chain.mlir -p canonicalize,cse,dce --verify-equivalence 2>&1 | filecheck %s --check-prefix=EXAMPLE
// EXAMPLE-NOT:   error
// EXAMPLE-LABEL: func.func @main
// EXAMPLE-NOT:   error
