// RUN: red-opt %s -p convert-red-to-loops --split-input-file | filecheck %s

// The reduction rules of convert-red-to-loops (lowering/loops/reductions.py): per output
// element, a loop over the reduced axes carrying the accumulator; softmax, layer_norm and
// rms_norm, where the kernel library's row kernels do not take them (f64 here, or not over
// the trailing axes; f32 rows call the library, red-to-loops-kernel-calls.mlir), as passes
// over each row inside a loop over the other axes.

// reduce_sum over the last axis: the sum starts at 0 and is carried by the inner loop.
// CHECK-LABEL: func.func @red_reduce_sum
// CHECK-SAME:    (%[[A:.*]]: memref<2x3xf32>, %[[RES:.*]]: memref<2xf32>) {
// CHECK-DAG:     %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK:         scf.for %[[I:.*]] = {{.*}} {
// CHECK-NEXT:      %[[SUM:.*]] = scf.for %[[J:.*]] = {{.*}} iter_args(%[[ACC:.*]] = %[[ZERO]]) -> (f32) {
// CHECK-NEXT:        %[[X:.*]] = memref.load %[[A]][%[[I]], %[[J]]] : memref<2x3xf32>
// CHECK-NEXT:        %[[NEXT:.*]] = arith.addf %[[ACC]], %[[X]] : f32
// CHECK-NEXT:        scf.yield %[[NEXT]] : f32
// CHECK-NEXT:      }
// CHECK-NEXT:      memref.store %[[SUM]], %[[RES]][%[[I]]] : memref<2xf32>
func.func @reduce_sum(%a: tensor<2x3xf32>) -> tensor<2xf32> {
  %r = red.reduce_sum %a axes = [1] : tensor<2x3xf32> -> tensor<2xf32>
  func.return %r : tensor<2xf32>
}

// -----

// reduce_mean divides the sum by the count; with keepdims the reduced axis stays (size 1)
// in the output index.
// CHECK-LABEL: func.func @red_reduce_mean_keepdims
// CHECK-SAME:    (%[[A:.*]]: memref<2x3xf32>, %[[RES:.*]]: memref<1x3xf32>) {
// CHECK-DAG:     %[[COUNT:.*]] = arith.constant 2.000000e+00 : f32
// CHECK-DAG:     %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK:         scf.for %[[K:.*]] = {{.*}} {
// CHECK-NEXT:      scf.for %[[J:.*]] = {{.*}} {
// CHECK-NEXT:        %[[SUM:.*]] = scf.for %[[I:.*]] = {{.*}} iter_args(%[[ACC:.*]] = %[[ZERO]]) -> (f32) {
// CHECK-NEXT:          %[[X:.*]] = memref.load %[[A]][%[[I]], %[[J]]] : memref<2x3xf32>
// CHECK-NEXT:          %[[NEXT:.*]] = arith.addf %[[ACC]], %[[X]] : f32
// CHECK-NEXT:          scf.yield %[[NEXT]] : f32
// CHECK-NEXT:        }
// CHECK-NEXT:        %[[MEAN:.*]] = arith.divf %[[SUM]], %[[COUNT]] : f32
// CHECK-NEXT:        memref.store %[[MEAN]], %[[RES]][%[[K]], %[[J]]] : memref<1x3xf32>
func.func @reduce_mean_keepdims(%a: tensor<2x3xf32>) -> tensor<1x3xf32> {
  %r = red.reduce_mean %a axes = [0] keepdims : tensor<2x3xf32> -> tensor<1x3xf32>
  func.return %r : tensor<1x3xf32>
}

// -----

// reduce_max starts at -inf (floats, with maximumf: NaN propagates) or at the lowest integer
// (maxsi); reducing every axis gives a 0-d result, one loop per reduced axis.
// CHECK-LABEL: func.func @red_reduce_max
// CHECK-SAME:    (%[[A:.*]]: memref<2x3xf32>, %[[B:.*]]: memref<2x3xi32>, %[[RES0:.*]]: memref<f32>, %[[RES1:.*]]: memref<2xi32>) {
// CHECK-DAG:     %[[LOWEST:.*]] = arith.constant -2147483648 : i32
// CHECK-DAG:     %[[NEG_INF:.*]] = arith.constant 0xff800000 : f32
// CHECK:         %[[ALL:.*]] = scf.for %[[I:.*]] = {{.*}} iter_args(%[[OUTER:.*]] = %[[NEG_INF]]) -> (f32) {
// CHECK-NEXT:      %[[ROW:.*]] = scf.for %[[J:.*]] = {{.*}} iter_args(%[[ACC:.*]] = %[[OUTER]]) -> (f32) {
// CHECK-NEXT:        %[[X:.*]] = memref.load %[[A]][%[[I]], %[[J]]] : memref<2x3xf32>
// CHECK-NEXT:        %[[M:.*]] = arith.maximumf %[[ACC]], %[[X]] : f32
// CHECK-NEXT:        scf.yield %[[M]] : f32
// CHECK-NEXT:      }
// CHECK-NEXT:      scf.yield %[[ROW]] : f32
// CHECK-NEXT:    }
// CHECK-NEXT:    memref.store %[[ALL]], %[[RES0]][] : memref<f32>
// CHECK:           %[[IMAX:.*]] = scf.for %{{.*}} iter_args(%[[IACC:.*]] = %[[LOWEST]]) -> (i32) {
// CHECK-NEXT:        %[[Y:.*]] = memref.load %[[B]]
// CHECK-NEXT:        %[[N:.*]] = arith.maxsi %[[IACC]], %[[Y]] : i32
func.func @reduce_max(%a: tensor<2x3xf32>, %b: tensor<2x3xi32>) -> (tensor<f32>, tensor<2xi32>) {
  %x = red.reduce_max %a axes = [0, 1] : tensor<2x3xf32> -> tensor<f32>
  %y = red.reduce_max %b axes = [1] : tensor<2x3xi32> -> tensor<2xi32>
  func.return %x, %y : tensor<f32>, tensor<2xi32>
}

// -----

// softmax along axis 1, per row: a max pass (maximumf from -inf), exp(x - max) stored into
// the result in a loop of its own (it vectorizes), a sum pass over the result, a divide pass.
// CHECK-LABEL: func.func @red_softmax
// CHECK-SAME:    (%[[A:.*]]: memref<2x4xf64>, %[[RES:.*]]: memref<2x4xf64>) {
// CHECK-DAG:     %[[ZERO:.*]] = arith.constant 0.000000e+00 : f64
// CHECK-DAG:     %[[NEG_INF:.*]] = arith.constant 0xfff0000000000000 : f64
// CHECK:         scf.for %[[I:.*]] = {{.*}} {
// CHECK-NEXT:      %[[PEAK:.*]] = scf.for %[[J:.*]] = {{.*}} iter_args(%[[M:.*]] = %[[NEG_INF]]) -> (f64) {
// CHECK-NEXT:        %[[X:.*]] = memref.load %[[A]][%[[I]], %[[J]]] : memref<2x4xf64>
// CHECK-NEXT:        %[[M2:.*]] = arith.maximumf %[[M]], %[[X]] : f64
// CHECK-NEXT:        scf.yield %[[M2]] : f64
// CHECK-NEXT:      }
// CHECK-NEXT:      scf.for %[[J2:.*]] = {{.*}} {
// CHECK-NEXT:        %[[X2:.*]] = memref.load %[[A]][%[[I]], %[[J2]]] : memref<2x4xf64>
// CHECK-NEXT:        %[[SHIFTED:.*]] = arith.subf %[[X2]], %[[PEAK]] : f64
// CHECK-NEXT:        %[[E:.*]] = math.exp %[[SHIFTED]] : f64
// CHECK-NEXT:        memref.store %[[E]], %[[RES]][%[[I]], %[[J2]]] : memref<2x4xf64>
// CHECK-NEXT:      }
// CHECK-NEXT:      %[[TOTAL:.*]] = scf.for %[[J3:.*]] = {{.*}} iter_args(%[[S:.*]] = %[[ZERO]]) -> (f64) {
// CHECK-NEXT:        %[[E2:.*]] = memref.load %[[RES]][%[[I]], %[[J3]]] : memref<2x4xf64>
// CHECK-NEXT:        %[[S2:.*]] = arith.addf %[[S]], %[[E2]] : f64
// CHECK-NEXT:        scf.yield %[[S2]] : f64
// CHECK-NEXT:      }
// CHECK-NEXT:      scf.for %[[J4:.*]] = {{.*}} {
// CHECK-NEXT:        %[[E3:.*]] = memref.load %[[RES]][%[[I]], %[[J4]]] : memref<2x4xf64>
// CHECK-NEXT:        %[[Q:.*]] = arith.divf %[[E3]], %[[TOTAL]] : f64
// CHECK-NEXT:        memref.store %[[Q]], %[[RES]][%[[I]], %[[J4]]] : memref<2x4xf64>
// CHECK-NEXT:      }
// CHECK-NEXT:    }
func.func @softmax(%a: tensor<2x4xf64>) -> tensor<2x4xf64> {
  %r = red.softmax %a axis = 1 : tensor<2x4xf64>
  func.return %r : tensor<2x4xf64>
}

// -----

// layer_norm over the axes from `axis` on, per row: the mean, the mean of squared
// deviations, then (x - mean) / sqrt(var + eps).
// CHECK-LABEL: func.func @red_layer_norm
// CHECK-SAME:    (%[[A:.*]]: memref<2x4xf64>, %[[RES:.*]]: memref<2x4xf64>) {
// CHECK-DAG:     %[[EPS:.*]] = arith.constant 1.000000e-05 : f64
// CHECK-DAG:     %[[N:.*]] = arith.constant 4.000000e+00 : f64
// CHECK-DAG:     %[[ZERO:.*]] = arith.constant 0.000000e+00 : f64
// CHECK:         scf.for %[[I:.*]] = {{.*}} {
// CHECK-NEXT:      %[[SUM:.*]] = scf.for %[[J:.*]] = {{.*}} iter_args(%[[S:.*]] = %[[ZERO]]) -> (f64) {
// CHECK-NEXT:        %[[X:.*]] = memref.load %[[A]][%[[I]], %[[J]]] : memref<2x4xf64>
// CHECK-NEXT:        %[[S2:.*]] = arith.addf %[[S]], %[[X]] : f64
// CHECK-NEXT:        scf.yield %[[S2]] : f64
// CHECK-NEXT:      }
// CHECK-NEXT:      %[[MEAN:.*]] = arith.divf %[[SUM]], %[[N]] : f64
// CHECK-NEXT:      %[[SQ:.*]] = scf.for %[[J2:.*]] = {{.*}} iter_args(%[[V:.*]] = %[[ZERO]]) -> (f64) {
// CHECK-NEXT:        %[[X2:.*]] = memref.load %[[A]][%[[I]], %[[J2]]] : memref<2x4xf64>
// CHECK-NEXT:        %[[C:.*]] = arith.subf %[[X2]], %[[MEAN]] : f64
// CHECK-NEXT:        %[[C2:.*]] = arith.mulf %[[C]], %[[C]] : f64
// CHECK-NEXT:        %[[V2:.*]] = arith.addf %[[V]], %[[C2]] : f64
// CHECK-NEXT:        scf.yield %[[V2]] : f64
// CHECK-NEXT:      }
// CHECK-NEXT:      %[[VAR:.*]] = arith.divf %[[SQ]], %[[N]] : f64
// CHECK-NEXT:      %[[VE:.*]] = arith.addf %[[VAR]], %[[EPS]] : f64
// CHECK-NEXT:      %[[DEN:.*]] = math.sqrt %[[VE]] : f64
// CHECK-NEXT:      scf.for %[[J3:.*]] = {{.*}} {
// CHECK-NEXT:        %[[X3:.*]] = memref.load %[[A]][%[[I]], %[[J3]]] : memref<2x4xf64>
// CHECK-NEXT:        %[[C3:.*]] = arith.subf %[[X3]], %[[MEAN]] : f64
// CHECK-NEXT:        %[[Y:.*]] = arith.divf %[[C3]], %[[DEN]] : f64
// CHECK-NEXT:        memref.store %[[Y]], %[[RES]][%[[I]], %[[J3]]] : memref<2x4xf64>
func.func @layer_norm(%a: tensor<2x4xf64>) -> tensor<2x4xf64> {
  %r = red.layer_norm %a axis = 1 eps = 1.0e-05 : tensor<2x4xf64>
  func.return %r : tensor<2x4xf64>
}

// -----

// rms_norm, per row: the mean of squares, then x / sqrt(mean + eps) (no centering).
// CHECK-LABEL: func.func @red_rms_norm
// CHECK-SAME:    (%[[A:.*]]: memref<2x4xf64>, %[[RES:.*]]: memref<2x4xf64>) {
// CHECK-DAG:     %[[EPS:.*]] = arith.constant 1.000000e-06 : f64
// CHECK-DAG:     %[[N:.*]] = arith.constant 4.000000e+00 : f64
// CHECK-DAG:     %[[ZERO:.*]] = arith.constant 0.000000e+00 : f64
// CHECK:         scf.for %[[I:.*]] = {{.*}} {
// CHECK-NEXT:      %[[SQ:.*]] = scf.for %[[J:.*]] = {{.*}} iter_args(%[[S:.*]] = %[[ZERO]]) -> (f64) {
// CHECK-NEXT:        %[[X:.*]] = memref.load %[[A]][%[[I]], %[[J]]] : memref<2x4xf64>
// CHECK-NEXT:        %[[X2:.*]] = arith.mulf %[[X]], %[[X]] : f64
// CHECK-NEXT:        %[[S2:.*]] = arith.addf %[[S]], %[[X2]] : f64
// CHECK-NEXT:        scf.yield %[[S2]] : f64
// CHECK-NEXT:      }
// CHECK-NEXT:      %[[MS:.*]] = arith.divf %[[SQ]], %[[N]] : f64
// CHECK-NEXT:      %[[ME:.*]] = arith.addf %[[MS]], %[[EPS]] : f64
// CHECK-NEXT:      %[[DEN:.*]] = math.sqrt %[[ME]] : f64
// CHECK-NEXT:      scf.for %[[J2:.*]] = {{.*}} {
// CHECK-NEXT:        %[[X3:.*]] = memref.load %[[A]][%[[I]], %[[J2]]] : memref<2x4xf64>
// CHECK-NEXT:        %[[Y:.*]] = arith.divf %[[X3]], %[[DEN]] : f64
// CHECK-NEXT:        memref.store %[[Y]], %[[RES]][%[[I]], %[[J2]]] : memref<2x4xf64>
func.func @rms_norm(%a: tensor<2x4xf64>) -> tensor<2x4xf64> {
  %r = red.rms_norm %a axis = 1 eps = 1.0e-06 : tensor<2x4xf64>
  func.return %r : tensor<2x4xf64>
}

// -----

// A normalization's input that is an elementwise op is not fused (it is read three times):
// it gets a buffer, freed after the normalization.
// CHECK-LABEL: func.func @red_no_fusion_into_norm
// CHECK-SAME:    (%[[A:.*]]: memref<2x4xf64>, %[[RES:.*]]: memref<2x4xf64>) {
// CHECK:         %[[E:.*]] = memref.alloc() : memref<2x4xf64>
// CHECK:         math.exp
// CHECK-NEXT:    memref.store %{{.*}}, %[[E]]
// CHECK:         memref.load %[[E]]
// CHECK:         memref.store %{{.*}}, %[[RES]]
// CHECK:         memref.dealloc %[[E]] : memref<2x4xf64>
// CHECK-NEXT:    func.return
func.func @no_fusion_into_norm(%a: tensor<2x4xf64>) -> tensor<2x4xf64> {
  %e = red.exp %a : tensor<2x4xf64>
  %r = red.rms_norm %e axis = 1 eps = 1.0e-06 : tensor<2x4xf64>
  func.return %r : tensor<2x4xf64>
}

// -----

// argmax, per output element: a loop from the second element carrying the best value and
// its index; floats take x when x ugt best (x larger, or x NaN) while best is ordered (so
// the first NaN wins and stays); integers when x sgt best (so the first of ties wins).
// CHECK-LABEL: func.func @red_argmax
// CHECK-SAME:    (%[[A:.*]]: memref<3x5xf32>, %[[B:.*]]: memref<4x2xi32>, %[[RES0:.*]]: memref<3xi64>, %[[RES1:.*]]: memref<1x2xi64>) {
// CHECK-DAG:     %[[FIVE:.*]] = arith.constant 5 : index
// CHECK-DAG:     %[[ONE:.*]] = arith.constant 1 : index
// CHECK-DAG:     %[[ZERO:.*]] = arith.constant 0 : index
// CHECK:         scf.for %[[I:.*]] = {{.*}} {
// CHECK-NEXT:      %[[FIRST:.*]] = memref.load %[[A]][%[[I]], %[[ZERO]]] : memref<3x5xf32>
// CHECK-NEXT:      %{{.*}}, %[[AT:.*]] = scf.for %[[J:.*]] = %[[ONE]] to %[[FIVE]] step %[[ONE]] iter_args(%[[BEST:.*]] = %[[FIRST]], %[[WHERE:.*]] = %[[ZERO]]) -> (f32, index) {
// CHECK-NEXT:        %[[X:.*]] = memref.load %[[A]][%[[I]], %[[J]]] : memref<3x5xf32>
// CHECK-NEXT:        %[[ORD:.*]] = arith.cmpf ord, %[[BEST]], %[[BEST]] : f32
// CHECK-NEXT:        %[[UGT:.*]] = arith.cmpf ugt, %[[X]], %[[BEST]] : f32
// CHECK-NEXT:        %[[TAKE:.*]] = arith.andi %[[UGT]], %[[ORD]] : i1
// CHECK-NEXT:        %[[NB:.*]] = arith.select %[[TAKE]], %[[X]], %[[BEST]] : f32
// CHECK-NEXT:        %[[NW:.*]] = arith.select %[[TAKE]], %[[J]], %[[WHERE]] : index
// CHECK-NEXT:        scf.yield %[[NB]], %[[NW]] : f32, index
// CHECK-NEXT:      }
// CHECK-NEXT:      %[[IDX:.*]] = arith.index_cast %[[AT]] : index to i64
// CHECK-NEXT:      memref.store %[[IDX]], %[[RES0]][%[[I]]] : memref<3xi64>
// CHECK:             scf.for {{.*}} iter_args(%[[IBEST:.*]] = %{{.*}}, %{{.*}} = %[[ZERO]]) -> (i32, index) {
// CHECK-NEXT:          %[[Y:.*]] = memref.load %[[B]][%{{.*}}, %{{.*}}] : memref<4x2xi32>
// CHECK-NEXT:          %[[GT:.*]] = arith.cmpi sgt, %[[Y]], %[[IBEST]] : i32
// CHECK:           memref.store %{{.*}}, %[[RES1]][%{{.*}}, %{{.*}}] : memref<1x2xi64>
func.func @argmax(%a: tensor<3x5xf32>, %b: tensor<4x2xi32>) -> (tensor<3xi64>, tensor<1x2xi64>) {
  %i = red.argmax %a axis = 1 : tensor<3x5xf32> -> tensor<3xi64>
  %j = red.argmax %b axis = 0 keepdims : tensor<4x2xi32> -> tensor<1x2xi64>
  func.return %i, %j : tensor<3xi64>, tensor<1x2xi64>
}
