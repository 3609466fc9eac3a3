// RUN: red-opt %s -p convert-red-to-loops --split-input-file | filecheck %s

// The constant rule of convert-red-to-loops (lowering/loops/constants.py): a constant costs
// no code where it is defined. A splat is a scalar where it is read; any other constant is
// one module global per distinct type and bytes (red.constant and arith.constant alike),
// taken at the top of the function so that it dominates every read.
// CHECK:       "memref.global"() <{sym_name = "__red_constant_0", type = memref<3xf32>, initial_value = dense<[1.000000e+00, -1.000000e+00, 5.000000e-01]> : tensor<3xf32>, sym_visibility = "private", constant}> : () -> ()
// CHECK-NEXT:  "memref.global"() <{sym_name = "__red_constant_1", type = memref<3xi1>, initial_value = dense<[true, false, true]> : tensor<3xi1>, sym_visibility = "private", constant}> : () -> ()
// CHECK-NOT:   "memref.global"
// CHECK-LABEL: func.func @red_constants
// CHECK-SAME:    (%[[A:.*]]: memref<2x3xf32>, %[[RES0:.*]]: memref<2x3xf32>, %[[RES1:.*]]: memref<3xi1>) {
// CHECK-NEXT:    %[[B:.*]] = memref.get_global @__red_constant_1 : memref<3xi1>
// CHECK-NEXT:    %[[W:.*]] = memref.get_global @__red_constant_0 : memref<3xf32>
// CHECK-NEXT:    %[[V:.*]] = memref.get_global @__red_constant_0 : memref<3xf32>
// CHECK-NEXT:    %[[TWO:.*]] = arith.constant 2.000000e+00 : f32
// CHECK:         scf.for %[[I:.*]] = {{.*}} {
// CHECK-NEXT:      scf.for %[[J:.*]] = {{.*}} {
// CHECK-NEXT:        %[[X:.*]] = memref.load %[[A]][%[[I]], %[[J]]] : memref<2x3xf32>
// CHECK-NEXT:        %[[M:.*]] = arith.mulf %[[X]], %[[TWO]] : f32
// CHECK-NEXT:        %[[VV:.*]] = memref.load %[[V]][%[[J]]] : memref<3xf32>
// CHECK-NEXT:        %[[S:.*]] = arith.addf %[[M]], %[[VV]] : f32
// CHECK-NEXT:        %[[WW:.*]] = memref.load %[[W]][%[[J]]] : memref<3xf32>
// CHECK-NEXT:        %[[D:.*]] = arith.subf %[[S]], %[[WW]] : f32
// CHECK-NEXT:        memref.store %[[D]], %[[RES0]][%[[I]], %[[J]]] : memref<2x3xf32>
// CHECK:         scf.for %[[K:.*]] = {{.*}} {
// CHECK-NEXT:      %[[BB:.*]] = memref.load %[[B]][%[[K]]] : memref<3xi1>
// CHECK-NEXT:      memref.store %[[BB]], %[[RES1]][%[[K]]] : memref<3xi1>
func.func @constants(%a: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<3xi1>) {
  %v = red.constant dense<[1.0, -1.0, 0.5]> : tensor<3xf32>
  %w = arith.constant dense<[1.0, -1.0, 0.5]> : tensor<3xf32>
  %s = red.constant dense<2.0> : tensor<f32>
  %b = red.constant dense<[true, false, true]> : tensor<3xi1>
  %x = red.mul %a, %s : tensor<2x3xf32>, tensor<f32> -> tensor<2x3xf32>
  %y = red.add %x, %v : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>
  %z = red.sub %y, %w : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>
  func.return %z, %b : tensor<2x3xf32>, tensor<3xi1>
}

// -----

// A constant read only in a loop that is not the first still gets its global at the top
// (a read inside one loop must not define a value another loop uses).
// CHECK-LABEL: func.func @red_read_in_two_loops
// CHECK-SAME:    (%[[A:.*]]: memref<2x3xf32>, %[[RES0:.*]]: memref<2x3xf32>, %[[RES1:.*]]: memref<3xf32>) {
// CHECK-NEXT:    %[[G:.*]] = memref.get_global @__red_constant_0 : memref<3xf32>
// CHECK:         memref.load %[[G]]
// CHECK:         memref.store %{{.*}}, %[[RES0]]
// CHECK:         memref.load %[[G]]
// CHECK-NEXT:    memref.load %[[G]]
// CHECK:         memref.store %{{.*}}, %[[RES1]]
func.func @read_in_two_loops(%a: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<3xf32>) {
  %v = red.constant dense<[1.0, -1.0, 0.5]> : tensor<3xf32>
  %x = red.add %a, %v : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>
  %y = red.mul %v, %v : tensor<3xf32>, tensor<3xf32> -> tensor<3xf32>
  func.return %x, %y : tensor<2x3xf32>, tensor<3xf32>
}

// -----

// A returned splat is written element by element, with no global.
// CHECK-NOT:   "memref.global"
// CHECK-LABEL: func.func @red_splat_returned
// CHECK-SAME:    (%[[RES:.*]]: memref<2x2xi64>) {
// CHECK-NEXT:    %[[SEVEN:.*]] = arith.constant 7 : i64
// CHECK:         memref.store %[[SEVEN]], %[[RES]][%{{.*}}, %{{.*}}] : memref<2x2xi64>
func.func @splat_returned() -> tensor<2x2xi64> {
  %c = red.constant dense<7> : tensor<2x2xi64>
  func.return %c : tensor<2x2xi64>
}
