// --split-input-file processes each `// -----` chunk on its own: outputs are joined by
// `// -----`, a failing chunk prints nothing but does not stop the others, the exit code is 1
// if any chunk failed, and errors carry line numbers of the whole file.
// RUN: not red-opt %s --split-input-file 2>%t.err | filecheck %s
// RUN: filecheck %s --input-file %t.err --check-prefix=ERR
// A failed run writes no file: an existing `-o` file keeps its content.
// RUN: echo 'previous content' > %t.out
// RUN: not red-opt %s --split-input-file -o %t.out 2>&1 | filecheck %s --check-prefix=ERR
// RUN: filecheck %s --input-file %t.out --check-prefix=KEPT
// KEPT: {{^}}previous content{{$}}
// KEPT-NOT: builtin.module
// Without the flag the markers are comments: the file is one module, and fails as a whole.
// RUN: not red-opt %s 2>&1 | filecheck %s --check-prefix=WHOLE

// CHECK:       builtin.module {
// CHECK-NEXT:    func.func @first(%[[A:.*]]: tensor<4xf32>) -> tensor<4xf32> {
// CHECK-NEXT:      %[[B:.*]] = red.neg %[[A]] : tensor<4xf32>
// CHECK-NEXT:      func.return %[[B]] : tensor<4xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:  }
// CHECK-NEXT:  // -----
// CHECK-NEXT:  builtin.module {
// CHECK-NEXT:    func.func @third(%[[C:.*]]: tensor<2xi64>) -> tensor<2xi64> {
// CHECK-NEXT:      func.return %[[C]] : tensor<2xi64>
// CHECK-NEXT:    }
// CHECK-NEXT:  }
// CHECK-NEXT:  // -----
// CHECK-NEXT:  builtin.module {
// CHECK-NEXT:  }
// CHECK-NOT:   {{.}}
func.func @first(%a: tensor<4xf32>) -> tensor<4xf32> {
  %b = red.neg %a : tensor<4xf32>
  func.return %b : tensor<4xf32>
}

// -----

// ERR-NOT:     Traceback
// ERR:         red-opt-split-input-file.mlir:[[# @LINE + 5]]:3: error: 'red.exp' op expected a floating-point element type, got 'i64'
// ERR-NEXT:    red-opt-split-input-file.mlir:[[# @LINE + 4]]:3: note: see current operation: %b = "red.exp"(%a) : (tensor<4xi64>) -> tensor<4xi64>
// ERR-NOT:     {{.}}
// WHOLE:       red-opt-split-input-file.mlir:[[# @LINE + 2]]:3: error: 'red.exp' op expected a floating-point element type, got 'i64'
func.func @second(%a: tensor<4xi64>) -> tensor<4xi64> {
  %b = red.exp %a : tensor<4xi64>
  func.return %b : tensor<4xi64>
}

// -----

func.func @third(%c: tensor<2xi64>) -> tensor<2xi64> {
  func.return %c : tensor<2xi64>
}

// WHOLE-NOT:   builtin.module
// The trailing marker opens an empty chunk: an empty module, as in mlir-opt.
// -----
