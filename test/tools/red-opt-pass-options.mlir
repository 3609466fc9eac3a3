// Pass lists, MLIR pass pipelines and flags: bad ones are `error: ...` with exit code 1 and no
// traceback; good ones that name no pass leave the module unchanged.

// Unknown passes, with or without options, are named.
// RUN: not red-opt %s -p nosuchpass 2>&1 | filecheck %s --check-prefix=UNKNOWN
// RUN: not red-opt %s -p 'nosuchpass{max-depth=2}' 2>&1 | filecheck %s --check-prefix=UNKNOWN
// UNKNOWN-NOT: Traceback
// UNKNOWN: {{^}}error: 'nosuchpass' does not refer to a registered pass or pass pipeline
// UNKNOWN-NOT: {{.}}

// Malformed pass lists and options.
// RUN: not red-opt %s -p 'nosuchpass{max-depth' 2>&1 | filecheck %s --check-prefix=BAD-OPTION
// RUN: not red-opt %s -p 'a,,b' 2>&1 | filecheck %s --check-prefix=EMPTY-NAME
// RUN: not red-opt %s -p '{fast-math=true}' 2>&1 | filecheck %s --check-prefix=NO-NAME
// BAD-OPTION: {{^}}error: invalid pass pipeline 'nosuchpass{max-depth': Expected equals, space or end of arguments here
// BAD-OPTION-NOT: {{.}}
// EMPTY-NAME: {{^}}error: invalid pass pipeline 'a,,b': Expected pass name here
// EMPTY-NAME-NOT: {{.}}
// NO-NAME: {{^}}error: invalid pass pipeline '{fast-math=true}': Expected pass name here
// NO-NAME-NOT: {{.}}

// Bad flags and flag values.
// RUN: not red-opt %s --no-such-flag 2>&1 | filecheck %s --check-prefix=BAD-FLAG
// RUN: not red-opt %s -t wasm 2>&1 | filecheck %s --check-prefix=BAD-TARGET
// RUN: not red-opt %s --verify-equivalence=many 2>&1 | filecheck %s --check-prefix=BAD-INT
// RUN: not red-opt %s -p 2>&1 | filecheck %s --check-prefix=NO-VALUE
// BAD-FLAG-NOT: Traceback
// BAD-FLAG: {{^}}error: unrecognized arguments: --no-such-flag
// BAD-FLAG-NOT: {{.}}
// BAD-TARGET: {{^}}error: argument -t/--target: invalid choice: 'wasm' (choose from 'mlir', 'llvm')
// BAD-TARGET-NOT: {{.}}
// BAD-INT: {{^}}error: argument --verify-equivalence: invalid int value: 'many'
// BAD-INT-NOT: {{.}}
// NO-VALUE: {{^}}error: argument -p/--passes: expected one argument
// NO-VALUE-NOT: {{.}}

// --pass-pipeline takes MLIR's anchored syntax; anchors only group the passes, whose names are
// checked however deep they are nested.
// RUN: red-opt %s --pass-pipeline='builtin.module()' | filecheck %s
// RUN: red-opt %s --pass-pipeline='builtin.module(func.func())' | filecheck %s
// RUN: red-opt %s -p '' | filecheck %s
// RUN: not red-opt %s --pass-pipeline='builtin.module(nosuchpass)' 2>&1 | filecheck %s --check-prefix=UNKNOWN
// RUN: not red-opt %s --pass-pipeline='builtin.module(func.func(nosuchpass{x=1}))' 2>&1 | filecheck %s --check-prefix=UNKNOWN
// RUN: not red-opt %s --pass-pipeline='builtin.module()' -p nosuchpass 2>&1 | filecheck %s --check-prefix=UNKNOWN
// RUN: not red-opt %s --pass-pipeline='nosuchpass' 2>&1 | filecheck %s --check-prefix=UNANCHORED
// RUN: not red-opt %s --pass-pipeline='builtin.module(nosuchpass' 2>&1 | filecheck %s --check-prefix=UNBALANCED
// UNANCHORED: {{^}}error: expected a pipeline anchored on 'builtin.module(...)', got 'nosuchpass'
// UNANCHORED-NOT: {{.}}
// UNBALANCED: {{^}}error: unbalanced parentheses in pass pipeline 'builtin.module(nosuchpass'
// UNBALANCED-NOT: {{.}}

// CHECK-LABEL: func.func @unchanged
// CHECK-SAME:    (%[[A:.*]]: tensor<4xf32>)
// CHECK-NEXT:    %[[B:.*]] = red.exp %[[A]] : tensor<4xf32>
// CHECK-NEXT:    %[[C:.*]] = red.exp %[[A]] : tensor<4xf32>
// CHECK-NEXT:    func.return %[[B]], %[[C]] : tensor<4xf32>, tensor<4xf32>
func.func @unchanged(%a: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %b = red.exp %a : tensor<4xf32>
  %c = red.exp %a : tensor<4xf32>
  func.return %b, %c : tensor<4xf32>, tensor<4xf32>
}
