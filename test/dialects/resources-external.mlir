// External data: with --external-data the blobs go to a data file the text names relative to
// itself (64-byte aligned offsets), and reading that text memory-maps them back: the round
// trip through the file gives the same module and the same bytes.
// RUN: rm -rf %t && mkdir -p %t/sub
// RUN: red-opt %s --resource-threshold=16 -o %t/sub/model.mlir --external-data %t/sub/model.weights
// RUN: filecheck %s --input-file=%t/sub/model.mlir
// RUN: red-opt %t/sub/model.mlir | filecheck %s --check-prefix=BACK
// RUN: red-opt %s --resource-threshold=16 --external-data-threshold=32 -o %t/auto.mlir
// RUN: filecheck %s --check-prefix=AUTO --input-file=%t/auto.mlir
// RUN: red-opt %s --resource-threshold=16 --external-data-threshold=64 | filecheck %s --check-prefix=SMALL

// CHECK-LABEL: func.func @external(
// CHECK-NEXT:    %[[W:.*]] = red.constant dense_resource<w> : tensor<4xf32>
// CHECK-NEXT:    %[[V:.*]] = red.constant dense_resource<v> : tensor<2x2xf64>
// CHECK:       {-#
// CHECK-NEXT:    external_resources: {
// CHECK-NEXT:      red.external_data: {
// CHECK-NEXT:        file: "model.weights",
// CHECK-NEXT:        w: "offset=0,length=16,alignment=4",
// CHECK-NEXT:        v: "offset=64,length=32,alignment=8"
// CHECK-NEXT:      }
// CHECK-NEXT:    }
// CHECK-NEXT:  #-}

// BACK-LABEL: func.func @external(
// BACK:        dialect_resources: {
// BACK-NEXT:     builtin: {
// BACK-NEXT:       v: "0x08000000000000000000F03F000000000000004000000000000008400000000000001040",
// BACK-NEXT:       w: "0x040000000000803F000000400000404000008040"

// Past --external-data-threshold (48 bytes of blobs here), an output file gets OUTPUT.weights.
// AUTO: file: "auto.mlir.weights",
// Below it (or on stdout), the blobs stay in the text.
// SMALL: dialect_resources
func.func @external(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<2x2xf64>) {
  %w = red.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %v = red.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf64>
  %y = red.add %x, %w : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  func.return %y, %v : tensor<4xf32>, tensor<2x2xf64>
}
