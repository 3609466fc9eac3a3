// Dense resources: constants from --resource-threshold bytes up print as dense_resource blobs,
// smaller ones (and splats, and i1) stay readable inline; blobs keep their bytes exactly, and
// print -> parse -> print is stable.
// RUN: red-opt %s --split-input-file --resource-threshold=16 | filecheck %s
// RUN: red-opt %s --resource-threshold=16 -o %t.1.mlir
// RUN: red-opt %t.1.mlir -o %t.2.mlir
// RUN: diff %t.1.mlir %t.2.mlir
// RUN: red-opt %s --split-input-file --resource-threshold=none | filecheck %s --check-prefix=INLINE

// A 16-byte constant becomes a blob named after its SSA value; a 12-byte one stays inline.
// CHECK-LABEL: func.func @resource_by_size()
// CHECK-NEXT:    %[[W:.*]] = red.constant dense_resource<w> : tensor<4xf32>
// CHECK-NEXT:    %[[B:.*]] = red.constant dense<[5.000000e+00, 6.000000e+00, 7.000000e+00]> : tensor<3xf32>
// CHECK-NEXT:    func.return %[[W]], %[[B]]
// CHECK:       {-#
// CHECK-NEXT:    dialect_resources: {
// CHECK-NEXT:      builtin: {
// CHECK-NEXT:        w: "0x040000000000803F000000400000404000008040"
// CHECK-NEXT:      }
// CHECK-NEXT:    }
// CHECK-NEXT:  #-}
// INLINE-LABEL: func.func @resource_by_size()
// INLINE-NEXT:    red.constant dense<[1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00]> : tensor<4xf32>
// INLINE-NEXT:    red.constant dense<[5.000000e+00, 6.000000e+00, 7.000000e+00]> : tensor<3xf32>
// INLINE-NOT:     dialect_resources
// INLINE:         // -----
func.func @resource_by_size() -> (tensor<4xf32>, tensor<3xf32>) {
  %w = red.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %b = red.constant dense<[5.0, 6.0, 7.0]> : tensor<3xf32>
  func.return %w, %b : tensor<4xf32>, tensor<3xf32>
}

// -----

// A splat stores one element, an i1 tensor has no byte-sized elements: both stay inline;
// a blob read from the file keeps its name and its bytes (i64: alignment 8), and one
// constant used twice is one blob.
// CHECK-LABEL: func.func @no_resource_splat_or_i1()
// CHECK-NEXT:    red.constant dense<5.000000e-01> : tensor<64xf32>
// CHECK-NEXT:    red.constant dense<[true, false, true, true, false, true, true, false, true, true, false, true, true, false, true, true, false]> : tensor<17xi1>
// CHECK-NEXT:    %[[I:.*]] = red.constant dense_resource<table> : tensor<2xi64>
// CHECK-NEXT:    red.add %[[I]], %[[I]]
// CHECK:         table: "0x0800000007000000000000000900000000000000"
// CHECK-NOT:     table
func.func @no_resource_splat_or_i1() -> (tensor<64xf32>, tensor<17xi1>, tensor<2xi64>) {
  %s = red.constant dense<0.5> : tensor<64xf32>
  %m = red.constant dense<[true, false, true, true, false, true, true, false, true, true, false, true, true, false, true, true, false]> : tensor<17xi1>
  %t = red.constant dense_resource<table> : tensor<2xi64>
  %u = red.add %t, %t : tensor<2xi64>, tensor<2xi64> -> tensor<2xi64>
  func.return %s, %m, %u : tensor<64xf32>, tensor<17xi1>, tensor<2xi64>
}
{-#
  dialect_resources: {
    builtin: {
      table: "0x0800000007000000000000000900000000000000"
    }
  }
#-}
