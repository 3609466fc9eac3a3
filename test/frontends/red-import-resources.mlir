// REQUIRES: onnx
// red-import keeps weights of 4096 bytes or more as dense resources (smaller ones inline), an
// unused initializer is dropped, and large blobs can go to an external data file that red-opt
// reads back to the same module. The model is written at test time (no binaries committed).
// RUN: rm -rf %t && mkdir -p %t
// RUN: python3 -c "import numpy as np, onnx; from onnx import helper as h, numpy_helper as nh; W = nh.from_array(np.arange(2048, dtype=np.float32).reshape(32, 64) / 64, 'W'); B = nh.from_array(np.arange(64, dtype=np.float32), 'B'); U = nh.from_array(np.ones((64, 64), np.float32), 'unused'); g = h.make_graph([h.make_node('Gemm', ['x', 'W', 'B'], ['y'], name='fc')], 'g', [h.make_tensor_value_info('x', 1, [2, 32])], [h.make_tensor_value_info('y', 1, [2, 64])], [W, B, U]); onnx.save(h.make_model(g, opset_imports=[h.make_opsetid('', 17)]), '%t/fc.onnx')"

// RUN: red-import %t/fc.onnx | filecheck %s
// CHECK-LABEL: func.func @main
// CHECK-SAME:    (%[[X:.*]]: tensor<2x32xf32>) -> tensor<2x64xf32>
// CHECK-NEXT:    %[[W:.*]] = red.constant dense_resource<W> : tensor<32x64xf32>
// CHECK-NEXT:    %[[MM:.*]] = red.matmul %[[X]], %[[W]]
// CHECK-NEXT:    %[[B:.*]] = red.constant dense<[0.000000e+00, 1.000000e+00, {{.*}}]> : tensor<64xf32>
// CHECK-NEXT:    red.add %[[MM]], %[[B]]
// CHECK-NOT:     unused
// CHECK:         dialect_resources
// CHECK-NEXT:      builtin: {
// CHECK-NEXT:        W: "0x04000000000000000000803C0000003D0000403D{{[0-9A-F]*}}"
// CHECK-NEXT:      }

// Without resources the weight is dense elements (in hex, as xDSL and MLIR print large ones).
// RUN: red-import %t/fc.onnx --resource-threshold=none | filecheck %s --check-prefix=INLINE
// INLINE:     red.constant dense<"0x000000000000803C0000003D0000403D{{[0-9A-F]*}}"> : tensor<32x64xf32>
// INLINE-NOT: dialect_resources

// External data: the text names the file, red-opt maps it and prints the same module.
// RUN: red-import %t/fc.onnx -o %t/ext.mlir --external-data %t/ext.weights
// RUN: filecheck %s --check-prefix=EXT --input-file=%t/ext.mlir
// EXT:      file: "ext.weights",
// EXT-NEXT: W: "offset=0,length=8192,alignment=4"
// RUN: red-import %t/fc.onnx -o %t/text.mlir
// RUN: red-opt %t/ext.mlir -o %t/back.mlir
// RUN: diff %t/text.mlir %t/back.mlir

// --weights-as-args is unchanged: the weight is an argument, not a blob.
// RUN: red-import %t/fc.onnx --weights-as-args | filecheck %s --check-prefix=ARGS
// ARGS:     func.func @main(%{{.*}}: tensor<2x32xf32>, %{{.*}}: tensor<32x64xf32> {red.invariant}
// ARGS-NOT: dense_resource
