// REQUIRES: onnx
// red-export writes @main of this file as an ONNX model; Inputs/show_onnx.py prints the model
// (after onnx's checker with strict shape inference) and its outputs on inputs of ones.
// RUN: rm -rf %t && mkdir -p %t

// Arguments are graph inputs named after their SSA names; the memo on the weight argument is
// written as ordinary nodes; each node is named after the line:column of its op.
// RUN: red-export %s -o %t/args.onnx
// RUN: python3 %S/Inputs/show_onnx.py %t/args.onnx | filecheck %s --check-prefix=CHECK-ARGS
// CHECK-ARGS:      opset 17
// CHECK-ARGS-NEXT: input x 2x4
// CHECK-ARGS-NEXT: input w 3x4
// CHECK-ARGS-NEXT: node Transpose '{{.*}}red-export.mlir:[[# @LINE + 26]]:5' (red.transpose at {{.*}}red-export.mlir:[[# @LINE + 26]]:5)
// CHECK-ARGS-NEXT: node MatMul '{{.*}}red-export.mlir:[[# @LINE + 28]]:3'
// CHECK-ARGS-NEXT: node Relu '{{.*}}red-export.mlir:[[# @LINE + 28]]:3'
// CHECK-ARGS-NEXT: output output_0 2x3
// CHECK-ARGS-NEXT: value output_0 {{\[\[}}4. 4. 4.]

// --weights binds the red.invariant argument: it is no longer an input, and the memo keyed
// on it is computed at export time into an initializer (4x3: the transposed weight).
// RUN: python3 -c "import numpy as np; np.savez('%t/w.npz', w=np.arange(12, dtype=np.float32).reshape(3, 4))"
// RUN: red-export %s --weights %t/w.npz --opset 20 -o %t/bound.onnx
// RUN: python3 %S/Inputs/show_onnx.py %t/bound.onnx | filecheck %s --check-prefix=CHECK-BOUND
// CHECK-BOUND:      opset 20
// CHECK-BOUND-NEXT: input x 2x4
// CHECK-BOUND-NEXT: initializer memo 4x3
// CHECK-BOUND-NEXT: node MatMul
// CHECK-BOUND-NEXT: node Relu
// CHECK-BOUND-NEXT: output output_0 2x3
// CHECK-BOUND-NEXT: value output_0 {{\[\[}} 6. 22. 38.]

// Input from stdin; a binary model written to a pipe.
// RUN: cat %s | red-export - | python3 -c "import sys, onnx; print(len(onnx.load_model_from_string(sys.stdin.buffer.read()).graph.node))" | filecheck %s --check-prefix=CHECK-STDIN
// CHECK-STDIN: 3

func.func @main(%x: tensor<2x4xf32>, %w: tensor<3x4xf32> {red.invariant}) -> tensor<2x3xf32> {
  %wt = red.memo(%w) : (tensor<3x4xf32>) -> tensor<4x3xf32> {
  ^bb0(%a: tensor<3x4xf32>):
    %t = red.transpose %a [1, 0] : tensor<3x4xf32> -> tensor<4x3xf32>
    red.yield %t : tensor<4x3xf32>
  }
  %m = red.matmul %x, %wt : tensor<2x4xf32>, tensor<4x3xf32> -> tensor<2x3xf32>
  %r = red.relu %m : tensor<2x3xf32>
  func.return %r : tensor<2x3xf32>
}

// Errors: file:line:col: error: ..., exit code 1, no traceback, and the output file untouched.

// An op with no ONNX equivalent is named, at its location.
// RUN: echo previous > %t/out.onnx
// RUN: not red-export %S/Inputs/export-while.mlir -o %t/out.onnx 2>&1 | filecheck %s --check-prefix=CHECK-WHILE
// CHECK-WHILE: export-while.mlir:3:3: error: 'scf.while' has no ONNX equivalent
// CHECK-WHILE-NOT: Traceback
// RUN: filecheck %s --check-prefix=CHECK-UNTOUCHED < %t/out.onnx
// CHECK-UNTOUCHED: previous

// Dynamic shapes are not exported.
// RUN: not red-export %S/Inputs/export-dynamic.mlir -o %t/out.onnx 2>&1 | filecheck %s --check-prefix=CHECK-DYNAMIC
// CHECK-DYNAMIC: export-dynamic.mlir:2:1: error: argument #0 has dynamic shape 'tensor<?x4xf32>': red-export needs static shapes

// A call to a function without a body.
// RUN: not red-export %S/Inputs/export-call.mlir -o %t/out.onnx 2>&1 | filecheck %s --check-prefix=CHECK-CALL
// CHECK-CALL: export-call.mlir:4:3: error: 'func.call' calls '@external', which has no body

// Invalid IR is the verifier's located error.
// RUN: not red-export %S/Inputs/export-syntax.mlir -o %t/out.onnx 2>&1 | filecheck %s --check-prefix=CHECK-INVALID
// CHECK-INVALID: export-syntax.mlir:4:15: error: operand is used with type tensor<5xf32>, but has been previously used or defined with type tensor<4xf32>

// An entry function that does not exist, weights for an argument that is not invariant.
// RUN: not red-export %s --entry decode -o %t/out.onnx 2>&1 | filecheck %s --check-prefix=CHECK-ENTRY
// CHECK-ENTRY: error: no function '@decode' with a body to export (functions: @main)
// RUN: python3 -c "import numpy as np; np.savez('%t/x.npz', x=np.ones((2, 4), np.float32))"
// RUN: not red-export %s --weights %t/x.npz -o %t/out.onnx 2>&1 | filecheck %s --check-prefix=CHECK-WEIGHTS
// CHECK-WEIGHTS: red-export.mlir:[[# @LINE - 38]]:1: error: weights name 'x', which is not red.invariant arguments of '@main' (those are: 'w')

// Bad flags and files: `error: ...` without a location.
// RUN: not red-export %s --opset 16 -o %t/out.onnx 2>&1 | filecheck %s --check-prefix=CHECK-OPSET
// CHECK-OPSET: error: --opset must be from 17 to {{[0-9]+}}, got 16
// RUN: not red-export %t/missing.mlir -o %t/out.onnx 2>&1 | filecheck %s --check-prefix=CHECK-MISSING
// CHECK-MISSING: error: could not open input file '{{.*}}missing.mlir': No such file or directory
// RUN: not red-export %s --weights %s -o %t/out.onnx 2>&1 | filecheck %s --check-prefix=CHECK-NPZ
// CHECK-NPZ: error: could not read --weights '{{.*}}red-export.mlir'
// RUN: not red-export %s -o %s 2>&1 | filecheck %s --check-prefix=CHECK-SAME-FILE
// CHECK-SAME-FILE: error: output file '{{.*}}red-export.mlir' is the input file; refusing to overwrite it
// RUN: filecheck %s --check-prefix=CHECK-UNTOUCHED < %t/out.onnx
