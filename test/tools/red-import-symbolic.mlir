// red-import keeps a symbolic input dim (an ONNX dim_param) as a `?` named in red.dims, builds
// the run-time sizes the model's shape arithmetic needs, and with --shape fixes the dims; a
// model that needs static sizes is a located error giving the --shape flags.
// The models come from red-import-symbolic-models.py.
// RUN: rm -rf %t && python %S/red-import-symbolic-models.py %t
// RUN: red-import %t/positions.onnx | filecheck %s --check-prefix=POSITIONS
// RUN: red-import %t/positions.onnx | red-opt | filecheck %s --check-prefix=ROUNDTRIP
// RUN: red-import %t/last.onnx | filecheck %s --check-prefix=LAST
// RUN: red-import %t/positions.onnx --shape ids=1x5 | filecheck %s --check-prefix=STATIC
// RUN: not red-import %t/undecided.onnx 2>&1 | filecheck %s --check-prefix=UNDECIDED
// RUN: red-import %t/head.onnx | red-opt -p red-pipeline --redundancy-report -o /dev/null 2>&1 | filecheck %s --check-prefix=REPORT
// RUN: red-import %t/head.onnx | red-opt -p red-pipeline --redundancy-report=json --assume seq=128 -o /dev/null 2>&1 | filecheck %s --check-prefix=ASSUMED

// The positions are a Range over the run-time length: an iota of `seq` elements (a loop up to
// tensor.dim, since red.iota has no run-time size) gathers the position embeddings.
// POSITIONS-LABEL: func.func @main
// POSITIONS-SAME:    (%[[IDS:.*]]: tensor<1x?xi64> {red.dims = ["", "seq"]}) -> tensor<1x?x8xf32>
// POSITIONS:         %[[N:.*]] = tensor.dim %[[IDS]], %{{.*}} : tensor<1x?xi64>
// POSITIONS:         %[[POS:.*]], %{{.*}} = scf.for %{{.*}} = %{{.*}} to %[[N]] step %{{.*}} iter_args
// POSITIONS:           red.dynamic_update_slice
// POSITIONS:         %[[WPE:.*]] = red.gather %{{.*}}, %[[POS]] axis = 0 : tensor<16x8xf32>, tensor<?xi64> -> tensor<?x8xf32>
// POSITIONS:         %[[WTE:.*]] = red.gather %{{.*}}, %[[IDS]] axis = 0 : tensor<32x8xf32>, tensor<1x?xi64> -> tensor<1x?x8xf32>
// POSITIONS:         %[[SUM:.*]] = red.add %[[WTE]], %[[WPE]] : tensor<1x?x8xf32>, tensor<?x8xf32> -> tensor<1x?x8xf32>
// POSITIONS:         func.return %[[SUM]] : tensor<1x?x8xf32>

// The printed module parses back.
// ROUNDTRIP: func.func @main(%{{.*}}: tensor<1x?xi64> {red.dims = ["", "seq"]}) -> tensor<1x?x8xf32>

// The row at seq - 1: Shape, Sub and Slice fold to sizes; one dynamic slice at dim - 1 is left.
// LAST-LABEL: func.func @main
// LAST-SAME:    (%[[X:.*]]: tensor<1x?x4xf32> {red.dims = ["", "seq", ""]}) -> tensor<1x1x4xf32>
// LAST-DAG:     %[[C0:.*]] = arith.constant 0 : index
// LAST-DAG:     %[[C1:.*]] = arith.constant 1 : index
// LAST:         %[[N:.*]] = tensor.dim %[[X]], %[[C1]] : tensor<1x?x4xf32>
// LAST:         %[[M:.*]] = arith.subi %[[N]], %[[C1]] : index
// LAST-NOT:     red.slice
// LAST:         %[[ROW:.*]] = red.dynamic_slice %[[X]][%[[C0]], %[[M]], %[[C0]]] sizes = [1, 1, 4]
// LAST:         func.return %[[ROW]] : tensor<1x1x4xf32>

// With --shape the dims are fixed: no red.dims, no loop, the positions fold to a constant.
// STATIC-LABEL: func.func @main
// STATIC-SAME:    (%[[IDS:.*]]: tensor<1x5xi64>) -> tensor<1x5x8xf32>
// STATIC-NOT:     scf.for
// STATIC:         %[[WTE:.*]] = red.gather %{{.*}}, %[[IDS]] axis = 0 : tensor<32x8xf32>, tensor<1x5xi64> -> tensor<1x5x8xf32>
// STATIC:         %[[WPE:.*]] = red.constant dense<{{.*}}> : tensor<5x8xf32>
// STATIC:         red.add %[[WTE]], %[[WPE]] : tensor<1x5x8xf32>, tensor<5x8xf32> -> tensor<1x5x8xf32>

// UNDECIDED: undecided.onnx:0:0: 'is_one': error: whether seq == 1 depends on the input sizes (ONNX node 'is_one'); import with static sizes: --shape x=1xNx4
// UNDECIDED-NOT: Traceback

// Only the last position's logits are returned: the report gives the cost before as a
// polynomial in `seq` and the saving of computing the MLP and the head on one row, whatever
// the length; --assume evaluates them.
// REPORT:      @main
// REPORT:        FLOPs (first call)   1408*seq + 1 ->     1.409k
// REPORT:        unused-rows         1 x, saving 1408*seq - 1408 FLOPs
// ASSUMED:       "before": {
// ASSUMED:         "flops": 180225,
// ASSUMED-NEXT:    "flops_symbolic": "1408*seq + 1",
// ASSUMED:       "after": {
// ASSUMED-NEXT:    "ops": 12,
// ASSUMED-NEXT:    "flops": 1409,
