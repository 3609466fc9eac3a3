// REQUIRES: onnx
// The models are written at test time by Inputs/make_onnx_models.py (no binaries committed).
// RUN: rm -rf %t && mkdir -p %t && python3 %S/Inputs/make_onnx_models.py %t

// Initializers become constants; Gemm becomes matmul + add; @main returns the graph output.
// RUN: red-import %t/mlp.onnx | filecheck %s --check-prefix=CHECK-MLP
// CHECK-MLP-LABEL: func.func @main
// CHECK-MLP-SAME:    (%[[X:.*]]: tensor<2x4xf32>) -> tensor<2x3xf32>
// CHECK-MLP:         %[[W:.*]] = red.constant dense<{{.*}}> : tensor<4x3xf32>
// CHECK-MLP:         %[[MM:.*]] = red.matmul %[[X]], %[[W]] : tensor<2x4xf32>, tensor<4x3xf32> -> tensor<2x3xf32>
// CHECK-MLP:         %[[B:.*]] = red.constant dense<[0.000000e+00, 1.000000e+00, 2.000000e+00]> : tensor<3xf32>
// CHECK-MLP:         %[[SUM:.*]] = red.add %[[MM]], %[[B]]
// CHECK-MLP:         %[[Y:.*]] = red.relu %[[SUM]] : tensor<2x3xf32>
// CHECK-MLP:         func.return %[[Y]] : tensor<2x3xf32>

// Every op is located at its ONNX node (NameLoc of the node name around the model file);
// an unnamed node is 'op_type#index', a materialized initializer its own name.
// RUN: red-import %t/mlp.onnx --mlir-print-debuginfo | filecheck %s --check-prefix=CHECK-LOC
// CHECK-LOC:       red.constant {{.*}} loc("w"("{{.*}}mlp.onnx":0:0))
// CHECK-LOC:       red.matmul {{.*}} loc("fc"("{{.*}}mlp.onnx":0:0))
// CHECK-LOC:       red.add {{.*}} loc("fc"("{{.*}}mlp.onnx":0:0))
// CHECK-LOC:       red.relu {{.*}} loc("Relu#1"("{{.*}}mlp.onnx":0:0))

// --weights-as-args: float initializers become trailing red.invariant arguments, in order.
// RUN: red-import %t/mlp.onnx --weights-as-args -o %t/mlp_args.mlir
// RUN: filecheck %s --check-prefix=CHECK-ARGS < %t/mlp_args.mlir
// CHECK-ARGS-LABEL: func.func @main
// CHECK-ARGS-SAME:    (%[[X:.*]]: tensor<2x4xf32>, %[[W:.*]]: tensor<4x3xf32> {red.invariant}, %[[B:.*]]: tensor<3xf32> {red.invariant})
// CHECK-ARGS-NOT:    red.constant
// CHECK-ARGS:         red.matmul %[[X]], %[[W]]
// CHECK-ARGS:         red.add %{{.*}}, %[[B]]

// The output is red IR that red-run executes.
// RUN: red-run %t/mlp_args.mlir --random --engine interp | filecheck %s --check-prefix=CHECK-EXEC
// CHECK-EXEC: result0: shape 2x3 dtype float32

// With the symbolic batch dimension given, Shape -> Gather -> Unsqueeze -> Concat -> Reshape
// folds at import time: only the reshape remains.
// RUN: red-import %t/dynamic_reshape.onnx --shape x=2x3x4 | filecheck %s --check-prefix=CHECK-FOLD
// CHECK-FOLD-LABEL: func.func @main
// CHECK-FOLD-SAME:    (%[[X:.*]]: tensor<2x3x4xf32>) -> tensor<2x12xf32>
// CHECK-FOLD-NEXT:    %[[R:.*]] = red.reshape %[[X]] : tensor<2x3x4xf32> -> tensor<2x12xf32>
// CHECK-FOLD-NEXT:    func.return %[[R]] : tensor<2x12xf32>

// Without it, the batch dimension stays symbolic: a '?' named in red.dims, and the
// Shape -> Gather -> Concat chain still folds into one reshape of symbolic size.
// RUN: red-import %t/dynamic_reshape.onnx | filecheck %s --check-prefix=CHECK-SYMBOLIC
// CHECK-SYMBOLIC-LABEL: func.func @main
// CHECK-SYMBOLIC-SAME:    (%[[X:.*]]: tensor<?x3x4xf32> {red.dims = ["N", "", ""]}) -> tensor<?x12xf32>
// CHECK-SYMBOLIC-NEXT:    %[[R:.*]] = red.reshape %[[X]] : tensor<?x3x4xf32> -> tensor<?x12xf32>
// CHECK-SYMBOLIC-NEXT:    func.return %[[R]] : tensor<?x12xf32>

// An unsupported op is a located error naming the op type and the node.
// RUN: not red-import %t/unsupported.onnx 2>&1 | filecheck %s --check-prefix=CHECK-UNSUPPORTED-OP
// CHECK-UNSUPPORTED-OP: unsupported.onnx:0:0: 'determinant': error: ONNX op 'Det' is not supported (ONNX node 'determinant')
// CHECK-UNSUPPORTED-OP-NOT: Traceback

// A missing file and a file that is not an ONNX model (this one) are errors, not tracebacks.
// RUN: not red-import %t/missing.onnx 2>&1 | filecheck %s --check-prefix=CHECK-MISSING
// CHECK-MISSING: error: could not open input file '{{.*}}missing.onnx': No such file or directory
// RUN: not red-import %s 2>&1 | filecheck %s --check-prefix=CHECK-GARBAGE
// CHECK-GARBAGE: error: could not read '{{.*}}red-import.mlir' as an ONNX model
// CHECK-GARBAGE-NOT: Traceback

// Red ops on constants inside a converter fold at import: BatchNormalization's
// sqrt(var + eps) of constant statistics is the constant [2, 3]; only the ops on x remain.
// RUN: red-import %t/batch_norm.onnx | filecheck %s --check-prefix=CHECK-BN
// CHECK-BN-LABEL: func.func @main
// CHECK-BN-SAME:    (%[[X:.*]]: tensor<1x2x3xf32>) -> tensor<1x2x3xf32>
// CHECK-BN-NOT:     red.sqrt
// CHECK-BN:         %[[MEAN:.*]] = red.constant dense<{{\[\[}}1.000000e+00], [2.000000e+00]]> : tensor<2x1xf32>
// CHECK-BN-NEXT:    %[[CENTERED:.*]] = red.sub %[[X]], %[[MEAN]]
// CHECK-BN-NEXT:    %[[STD:.*]] = red.constant dense<{{\[\[}}2.000000e+00], [3.000000e+00]]> : tensor<2x1xf32>
// CHECK-BN-NEXT:    %[[NORMALIZED:.*]] = red.div %[[CENTERED]], %[[STD]]
// CHECK-BN-NOT:     red.sqrt
// CHECK-BN:         func.return

// An RNN becomes an scf.for over its time steps through the loop LSTM, GRU and RNN share:
// one input projection for all steps; the first step (zero initial state: no recurrent
// matmul) runs before the loop; the loop carries H and the output buffer Y, reads x_t with
// red.dynamic_slice and writes H into row t with red.dynamic_update_slice.
// RUN: red-import %t/rnn_forward.onnx | filecheck %s --check-prefix=CHECK-RNN
// CHECK-RNN-LABEL: func.func @main
// CHECK-RNN-SAME:    (%[[X:.*]]: tensor<3x1x3xf32>)
// CHECK-RNN:         %[[XW:.*]] = red.matmul %[[X]], %{{.*}} : tensor<3x1x3xf32>, tensor<3x4xf32> -> tensor<3x1x4xf32>
// CHECK-RNN:         %[[ZERO:.*]] = arith.constant 0 : index
// CHECK-RNN:         red.slice %[[XW]] [0, 0, 0] [1, 1, 4]
// CHECK-RNN-NOT:     red.matmul
// CHECK-RNN:         %[[H0:.*]] = red.tanh %{{.*}} : tensor<1x4xf32>
// CHECK-RNN:         %[[Y0:.*]] = red.dynamic_update_slice %{{.*}}, %{{.*}}[%[[ZERO]], %[[ZERO]], %[[ZERO]]] : (tensor<3x1x4xf32>, tensor<1x1x4xf32>, index, index, index) -> tensor<3x1x4xf32>
// CHECK-RNN:         %[[ONE:.*]] = arith.constant 1 : index
// CHECK-RNN:         %[[THREE:.*]] = arith.constant 3 : index
// CHECK-RNN:         %[[H:.*]], %[[Y:.*]] = scf.for %[[T:.*]] = %[[ONE]] to %[[THREE]] step %[[ONE]] iter_args(%[[HP:.*]] = %[[H0]], %[[YP:.*]] = %[[Y0]]) -> (tensor<1x4xf32>, tensor<3x1x4xf32>) {
// CHECK-RNN:           %[[XT:.*]] = red.dynamic_slice %[[XW]][%[[T]], %[[ZERO]], %[[ZERO]]] sizes = [1, 1, 4]
// CHECK-RNN:           %[[REC:.*]] = red.matmul %[[HP]], %{{.*}} : tensor<1x4xf32>, tensor<4x4xf32> -> tensor<1x4xf32>
// CHECK-RNN:           %[[SUM:.*]] = red.add %{{.*}}, %[[REC]]
// CHECK-RNN:           %[[HN:.*]] = red.tanh %[[SUM]]
// CHECK-RNN:           %[[ROW:.*]] = red.reshape %[[HN]] : tensor<1x4xf32> -> tensor<1x1x4xf32>
// CHECK-RNN:           %[[YN:.*]] = red.dynamic_update_slice %[[YP]], %[[ROW]][%[[T]], %[[ZERO]], %[[ZERO]]]
// CHECK-RNN:           scf.yield %[[HN]], %[[YN]] : tensor<1x4xf32>, tensor<3x1x4xf32>
// CHECK-RNN:         }
// CHECK-RNN:         %[[YOUT:.*]] = red.reshape %[[Y]] : tensor<3x1x4xf32> -> tensor<3x1x1x4xf32>
// CHECK-RNN:         %[[YH:.*]] = red.reshape %[[H]] : tensor<1x4xf32> -> tensor<1x1x4xf32>
// CHECK-RNN:         func.return %[[YOUT]], %[[YH]]

// A reverse RNN steps from the last input to the first: the peeled step reads row 2, the loop
// visits t = 2 - iv for iv in [1, 3); Y is written in time order, Y_h is the state after the
// first input.
// RUN: red-import %t/rnn_reverse.onnx | filecheck %s --check-prefix=CHECK-RNN-REVERSE
// CHECK-RNN-REVERSE-LABEL: func.func @main
// CHECK-RNN-REVERSE:         %[[XW:.*]] = red.matmul
// CHECK-RNN-REVERSE:         red.slice %[[XW]] [2, 0, 0] [3, 1, 4]
// CHECK-RNN-REVERSE:         %[[H2:.*]] = red.tanh %{{.*}} : tensor<1x4xf32>
// CHECK-RNN-REVERSE:         %[[TWO:.*]] = arith.constant 2 : index
// CHECK-RNN-REVERSE:         %[[Y2:.*]] = red.dynamic_update_slice %{{.*}}, %{{.*}}[%[[TWO]], %{{.*}}, %{{.*}}]
// CHECK-RNN-REVERSE:         %[[ONE:.*]] = arith.constant 1 : index
// CHECK-RNN-REVERSE:         %[[THREE:.*]] = arith.constant 3 : index
// CHECK-RNN-REVERSE:         %[[H:.*]], %[[Y:.*]] = scf.for %[[IV:.*]] = %[[ONE]] to %[[THREE]] step %[[ONE]] iter_args(%{{.*}} = %[[H2]], %{{.*}} = %[[Y2]])
// CHECK-RNN-REVERSE:           %[[T:.*]] = arith.subi %[[TWO]], %[[IV]] : index
// CHECK-RNN-REVERSE:           red.dynamic_slice %[[XW]][%[[T]], %{{.*}}, %{{.*}}] sizes = [1, 1, 4]
// CHECK-RNN-REVERSE:           red.dynamic_update_slice %{{.*}}, %{{.*}}[%[[T]], %{{.*}}, %{{.*}}]
// CHECK-RNN-REVERSE:         }
// CHECK-RNN-REVERSE:         %[[YOUT:.*]] = red.reshape %[[Y]] : tensor<3x1x4xf32> -> tensor<3x1x1x4xf32>
// CHECK-RNN-REVERSE:         %[[YH:.*]] = red.reshape %[[H]] : tensor<1x4xf32> -> tensor<1x1x4xf32>
// CHECK-RNN-REVERSE:         func.return %[[YOUT]], %[[YH]]
