// REQUIRES: onnx
// A weight that two nodes read (a tied embedding: Gather, and Transpose for the LM head) keeps
// one copy: the transpose of a weight over the emitter's 1 MiB fold budget stays a
// red.transpose of the one constant (the lowering reads it through strides), where folding it
// would store the weight twice. A weight only the Transpose reads still folds at import.
// The 1.2 MB model is written at test time (no binaries committed).
// RUN: rm -rf %t && mkdir -p %t
// RUN: python3 -c "import numpy as np, onnx; from onnx import helper as h, numpy_helper as nh; rng = np.random.default_rng(0); W = nh.from_array(rng.standard_normal((600, 512)).astype(np.float32), 'W'); E = nh.from_array(rng.standard_normal((600, 512)).astype(np.float32), 'E'); io = lambda t: ([h.make_tensor_value_info('ids', 7, [1, 5])], [h.make_tensor_value_info('logits', 1, [1, 5, 600])]); nodes = lambda t: [h.make_node('Gather', [t, 'ids'], ['e'], name='embed'), h.make_node('Transpose', ['W'], ['wt'], perm=[1, 0], name='head_t'), h.make_node('MatMul', ['e', 'wt'], ['logits'], name='head')]; [onnx.save(h.make_model(h.make_graph(nodes(t), 'g', *io(t), [W, E]), opset_imports=[h.make_opsetid('', 17)]), f'%t/{n}.onnx') for n, t in (('tied', 'W'), ('untied', 'E'))]"

// RUN: red-import %t/tied.onnx -o %t/tied.mlir --external-data %t/tied.weights
// RUN: filecheck %s --input-file=%t/tied.mlir
// CHECK-LABEL: func.func @main
// CHECK-SAME:    (%[[IDS:.*]]: tensor<1x5xi64>) -> tensor<1x5x600xf32>
// CHECK-NEXT:    %[[W:.*]] = red.constant dense_resource<W> : tensor<600x512xf32>
// CHECK-NEXT:    %[[E:.*]] = red.gather %[[W]], %[[IDS]] axis = 0
// CHECK-NEXT:    %[[WT:.*]] = red.transpose %[[W]] [1, 0] : tensor<600x512xf32> -> tensor<512x600xf32>
// CHECK-NEXT:    %[[Y:.*]] = red.matmul %[[E]], %[[WT]]
// CHECK-NEXT:    func.return %[[Y]]
// CHECK:         W: "offset=0,length=1228800,alignment=4"
// CHECK-NEXT:    }

// NO-LABEL: func.func @main
// NO:         %[[WT:.*]] = red.constant dense_resource<head_t> : tensor<512x600xf32>
// NO-NOT:     red.transpose
// NO:         red.matmul %{{.*}}, %[[WT]]
// NO-NOT:     red.transpose
// NO:         head_t: "offset={{[0-9]+}},length=1228800,alignment=4"
// RUN: red-import %t/untied.onnx -o %t/untied.mlir --external-data %t/untied.weights
// RUN: filecheck %s --check-prefix=NO --input-file=%t/untied.mlir
