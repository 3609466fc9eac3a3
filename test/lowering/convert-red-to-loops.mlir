// RUN: red-opt %s -p convert-red-to-loops --split-input-file | filecheck %s

// The driver of convert-red-to-loops (lowering/convert_red_to_loops.py): signatures in
// destination-passing style, fusion of elementwise chains, buffers freed after their last
// use. Each family of rules has its own file: red-to-loops-{elementwise,shape,constants,
// reductions,matmul,memo,calls}.mlir.

// Destination-passing style: public @f becomes @red_f taking its arguments, then one buffer
// per result; a private function keeps its name and visibility; a returned argument is copied
// into its result buffer; every module gets @red_memo_reset.
// CHECK-LABEL: func.func @red_dps_signature
// CHECK-SAME:    (%[[X:.*]]: memref<2x3xf32>, %[[IDS:.*]]: memref<4xi64>, %[[RES0:.*]]: memref<3x2xf32>, %[[RES1:.*]]: memref<4xi64>) {
// CHECK-NOT:     memref.alloc
// CHECK:         func.call @helper(%[[X]], %[[RES0]]) : (memref<2x3xf32>, memref<3x2xf32>) -> ()
// CHECK:         scf.for %[[I:.*]] = {{.*}} {
// CHECK-NEXT:      %[[V:.*]] = memref.load %[[IDS]][%[[I]]] : memref<4xi64>
// CHECK-NEXT:      memref.store %[[V]], %[[RES1]][%[[I]]] : memref<4xi64>
// CHECK:         func.return
// CHECK-LABEL: func.func private @helper
// CHECK-SAME:    (%[[HX:.*]]: memref<2x3xf32>, %[[HRES:.*]]: memref<3x2xf32>) {
// CHECK-NOT:     memref.alloc
// CHECK:         memref.store %{{.*}}, %[[HRES]][%{{.*}}, %{{.*}}] : memref<3x2xf32>
// CHECK:         func.func @red_memo_reset() {
// CHECK-NEXT:      func.return
func.func @dps_signature(%x: tensor<2x3xf32>, %ids: tensor<4xi64>) -> (tensor<3x2xf32>, tensor<4xi64>) {
  %t = func.call @helper(%x) : (tensor<2x3xf32>) -> tensor<3x2xf32>
  func.return %t, %ids : tensor<3x2xf32>, tensor<4xi64>
}
func.func private @helper(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
  %t = red.transpose %x [1, 0] : tensor<2x3xf32> -> tensor<3x2xf32>
  func.return %t : tensor<3x2xf32>
}

// -----

// An elementwise chain of equal shape (broadcast operand included) is one loop nest that
// writes the result buffer directly: no intermediate buffer.
// CHECK-LABEL: func.func @red_fused_chain
// CHECK-SAME:    (%[[A:.*]]: memref<4x8xf32>, %[[B:.*]]: memref<8xf32>, %[[RES:.*]]: memref<4x8xf32>) {
// CHECK-NOT:     memref.alloc
// CHECK:         scf.for %[[I:.*]] = {{.*}} {
// CHECK-NEXT:      scf.for %[[J:.*]] = {{.*}} {
// CHECK-NEXT:        %[[X:.*]] = memref.load %[[A]][%[[I]], %[[J]]] : memref<4x8xf32>
// CHECK-NEXT:        %[[Y:.*]] = memref.load %[[B]][%[[J]]] : memref<8xf32>
// CHECK-NEXT:        %[[M:.*]] = arith.mulf %[[X]], %[[Y]] : f32
// CHECK-NEXT:        %[[E:.*]] = math.exp %[[M]] : f32
// CHECK-NEXT:        %[[X2:.*]] = memref.load %[[A]][%[[I]], %[[J]]] : memref<4x8xf32>
// CHECK-NEXT:        %[[S:.*]] = arith.subf %[[E]], %[[X2]] : f32
// CHECK-NEXT:        memref.store %[[S]], %[[RES]][%[[I]], %[[J]]] : memref<4x8xf32>
// CHECK-NEXT:      }
// CHECK-NEXT:    }
// CHECK-NOT:     scf.for
// CHECK-NOT:     memref.alloc
// CHECK:         func.return
func.func @fused_chain(%a: tensor<4x8xf32>, %b: tensor<8xf32>) -> tensor<4x8xf32> {
  %0 = red.mul %a, %b : tensor<4x8xf32>, tensor<8xf32> -> tensor<4x8xf32>
  %1 = red.exp %0 : tensor<4x8xf32>
  %2 = red.sub %1, %a : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  func.return %2 : tensor<4x8xf32>
}

// -----

// A value with several uses is not fused: it gets a buffer, which is freed right after its
// last use (before the loops of the next op), not at the end of the function.
// CHECK-LABEL: func.func @red_several_uses
// CHECK-SAME:    (%[[A:.*]]: memref<4x8xf32>, %[[RES0:.*]]: memref<4x8xf32>, %[[RES1:.*]]: memref<4x8xf32>) {
// CHECK:         %[[E:.*]] = memref.alloc() : memref<4x8xf32>
// CHECK:         math.exp
// CHECK-NEXT:    memref.store %{{.*}}, %[[E]][%{{.*}}, %{{.*}}] : memref<4x8xf32>
// CHECK:         %[[L0:.*]] = memref.load %[[E]]
// CHECK-NEXT:    %[[L1:.*]] = memref.load %[[E]]
// CHECK-NEXT:    %[[S:.*]] = arith.addf %[[L0]], %[[L1]] : f32
// CHECK-NEXT:    memref.store %[[S]], %[[RES0]]
// CHECK-NEXT:  }
// CHECK-NEXT:  }
// CHECK-NEXT:  memref.dealloc %[[E]] : memref<4x8xf32>
// CHECK-NEXT:  scf.for
// CHECK:         arith.negf
// CHECK-NEXT:    memref.store %{{.*}}, %[[RES1]]
// CHECK-NOT:     memref.dealloc
// CHECK:         func.return
func.func @several_uses(%a: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %e = red.exp %a : tensor<4x8xf32>
  %s = red.add %e, %e : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %n = red.neg %a : tensor<4x8xf32>
  func.return %s, %n : tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// A buffer whose last reader is fused into its consumer lives until the consumer's loops are
// done (the fused add reads it inside the mul's loop nest).
// CHECK-LABEL: func.func @red_last_reader_fused
// CHECK-SAME:    (%[[A:.*]]: memref<8xf32>, %[[RES:.*]]: memref<8xf32>) {
// CHECK:         %[[E:.*]] = memref.alloc() : memref<8xf32>
// CHECK-NOT:     memref.dealloc
// CHECK:         %[[L0:.*]] = memref.load %[[E]]
// CHECK-NEXT:    %[[L1:.*]] = memref.load %[[E]]
// CHECK-NEXT:    %[[S:.*]] = arith.addf %[[L0]], %[[L1]] : f32
// CHECK-NEXT:    %[[X:.*]] = memref.load %[[A]]
// CHECK-NEXT:    %[[M:.*]] = arith.mulf %[[S]], %[[X]] : f32
// CHECK-NEXT:    memref.store %[[M]], %[[RES]]
// CHECK-NEXT:  }
// CHECK-NEXT:  memref.dealloc %[[E]] : memref<8xf32>
// CHECK-NEXT:  func.return
func.func @last_reader_fused(%a: tensor<8xf32>) -> tensor<8xf32> {
  %e = red.exp %a : tensor<8xf32>
  %s = red.add %e, %e : tensor<8xf32>, tensor<8xf32> -> tensor<8xf32>
  %m = red.mul %s, %a : tensor<8xf32>, tensor<8xf32> -> tensor<8xf32>
  func.return %m : tensor<8xf32>
}

// -----

// A reshape is a view (memref.reinterpret_cast), not a copy; the buffer it views lives until
// the view's last use.
// CHECK-LABEL: func.func @red_reshape_view
// CHECK-SAME:    (%[[A:.*]]: memref<2x6xf32>, %[[RES:.*]]: memref<3x4xf32>) {
// CHECK:         %[[E:.*]] = memref.alloc() : memref<2x6xf32>
// CHECK:         %[[V:.*]] = memref.reinterpret_cast %[[E]] to offset: [0], sizes: [3, 4], strides: [4, 1] : memref<2x6xf32> to memref<3x4xf32>
// CHECK-NOT:     memref.dealloc
// CHECK:         memref.load %[[V]]
// CHECK:         memref.store %{{.*}}, %[[RES]]
// CHECK:         memref.dealloc %[[E]] : memref<2x6xf32>
// CHECK-NEXT:    func.return
func.func @reshape_view(%a: tensor<2x6xf32>) -> tensor<3x4xf32> {
  %e = red.exp %a : tensor<2x6xf32>
  %v = red.reshape %e : tensor<2x6xf32> -> tensor<3x4xf32>
  %n = red.neg %v : tensor<3x4xf32>
  func.return %n : tensor<3x4xf32>
}

// -----

// Nothing on tensors is left to convert: the pass leaves a loop-level module alone.
// CHECK-LABEL: func.func @no_tensors
// CHECK-SAME:    (%[[A:.*]]: memref<4xf32>)
// CHECK-NEXT:    func.return
// CHECK-NOT:   red_memo_reset
func.func @no_tensors(%a: memref<4xf32>) {
  func.return
}
