// RUN: red-opt %s -p convert-red-to-loops --split-input-file | filecheck %s

// The memo rule of convert-red-to-loops (lowering/loops/memo.py): module globals for the
// cached results, a valid flag and the key (the addresses of the buffers the results were
// computed from); the body runs, into the cached results, only when the flag is clear or a
// key differs; @red_memo_reset clears every flag.

// Two keys, two results: the memo is stale unless the flag is set and both addresses match;
// when stale it recomputes, then records the addresses and sets the flag. Its results are
// the cached buffers (a returned one is copied out).
// CHECK:       "memref.global"() <{sym_name = "__red_memo_0_result_0", type = memref<4x4xf32>, initial_value, sym_visibility = "private"}> : () -> ()
// CHECK-NEXT:  "memref.global"() <{sym_name = "__red_memo_0_result_1", type = memref<4xf32>, initial_value, sym_visibility = "private"}> : () -> ()
// CHECK-NEXT:  "memref.global"() <{sym_name = "__red_memo_0_valid", type = memref<1xi8>, initial_value, sym_visibility = "private"}> : () -> ()
// CHECK-NEXT:  "memref.global"() <{sym_name = "__red_memo_0_key", type = memref<2xi64>, initial_value, sym_visibility = "private"}> : () -> ()
// CHECK-LABEL: func.func @red_two_keys
// CHECK-SAME:    (%[[X:.*]]: memref<2x4xf32>, %[[W:.*]]: memref<4x4xf32>, %[[B:.*]]: memref<4xf32>, %[[RES0:.*]]: memref<4x4xf32>, %[[RES1:.*]]: memref<2x4xf32>) {
// CHECK-DAG:     %[[ONE_I8:.*]] = arith.constant 1 : i8
// CHECK-DAG:     %[[TRUE:.*]] = arith.constant true
// CHECK-DAG:     %[[ONE:.*]] = arith.constant 1 : index
// CHECK-DAG:     %[[ZERO_I8:.*]] = arith.constant 0 : i8
// CHECK-DAG:     %[[ZERO:.*]] = arith.constant 0 : index
// CHECK:         %[[FLAG:.*]] = memref.get_global @__red_memo_0_valid : memref<1xi8>
// CHECK-NEXT:    %[[KEY:.*]] = memref.get_global @__red_memo_0_key : memref<2xi64>
// CHECK-NEXT:    %[[WP:.*]] = "memref.extract_aligned_pointer_as_index"(%[[W]]) : (memref<4x4xf32>) -> index
// CHECK-NEXT:    %[[WA:.*]] = arith.index_cast %[[WP]] : index to i64
// CHECK-NEXT:    %[[BP:.*]] = "memref.extract_aligned_pointer_as_index"(%[[B]]) : (memref<4xf32>) -> index
// CHECK-NEXT:    %[[BA:.*]] = arith.index_cast %[[BP]] : index to i64
// CHECK-NEXT:    %[[F:.*]] = memref.load %[[FLAG]][%[[ZERO]]] : memref<1xi8>
// CHECK-NEXT:    %[[SET:.*]] = arith.cmpi ne, %[[F]], %[[ZERO_I8]] : i8
// CHECK-NEXT:    %[[K0:.*]] = memref.load %[[KEY]][%[[ZERO]]] : memref<2xi64>
// CHECK-NEXT:    %[[SAME0:.*]] = arith.cmpi eq, %[[K0]], %[[WA]] : i64
// CHECK-NEXT:    %[[V0:.*]] = arith.andi %[[SET]], %[[SAME0]] : i1
// CHECK-NEXT:    %[[K1:.*]] = memref.load %[[KEY]][%[[ONE]]] : memref<2xi64>
// CHECK-NEXT:    %[[SAME1:.*]] = arith.cmpi eq, %[[K1]], %[[BA]] : i64
// CHECK-NEXT:    %[[V1:.*]] = arith.andi %[[V0]], %[[SAME1]] : i1
// CHECK-NEXT:    %[[STALE:.*]] = arith.xori %[[V1]], %[[TRUE]] : i1
// CHECK-NEXT:    %[[C0:.*]] = memref.get_global @__red_memo_0_result_0 : memref<4x4xf32>
// CHECK-NEXT:    %[[C1:.*]] = memref.get_global @__red_memo_0_result_1 : memref<4xf32>
// CHECK-NEXT:    scf.if %[[STALE]] {
// CHECK:           memref.load %[[W]]
// CHECK:           memref.store %{{.*}}, %[[C0]]
// CHECK:           memref.load %[[B]]
// CHECK-NEXT:      math.exp
// CHECK-NEXT:      memref.store %{{.*}}, %[[C1]]
// CHECK:         memref.store %[[WA]], %[[KEY]][%[[ZERO]]] : memref<2xi64>
// CHECK-NEXT:    memref.store %[[BA]], %[[KEY]][%[[ONE]]] : memref<2xi64>
// CHECK-NEXT:    memref.store %[[ONE_I8]], %[[FLAG]][%[[ZERO]]] : memref<1xi8>
// CHECK-NEXT:  } else {
// CHECK-NEXT:  }
// CHECK:         memref.load %[[C1]]
// CHECK:         memref.store %{{.*}}, %[[RES1]]
// CHECK:         %[[CACHED:.*]] = memref.load %[[C0]]
// CHECK-NEXT:    memref.store %[[CACHED]], %[[RES0]]
// CHECK-LABEL: func.func @red_memo_reset() {
// CHECK-NEXT:    %[[Z:.*]] = arith.constant 0 : index
// CHECK-NEXT:    %[[Z8:.*]] = arith.constant 0 : i8
// CHECK-NEXT:    %[[G:.*]] = memref.get_global @__red_memo_0_valid : memref<1xi8>
// CHECK-NEXT:    memref.store %[[Z8]], %[[G]][%[[Z]]] : memref<1xi8>
// CHECK-NEXT:    func.return
func.func @two_keys(%x: tensor<2x4xf32>, %w: tensor<4x4xf32> {red.invariant}, %b: tensor<4xf32> {red.invariant}) -> (tensor<4x4xf32>, tensor<2x4xf32>) {
  %wt, %bb = red.memo(%w, %b) : (tensor<4x4xf32>, tensor<4xf32>) -> (tensor<4x4xf32>, tensor<4xf32>) {
  ^bb0(%a: tensor<4x4xf32>, %c: tensor<4xf32>):
    %t = red.transpose %a [1, 0] : tensor<4x4xf32> -> tensor<4x4xf32>
    %e = red.exp %c : tensor<4xf32>
    red.yield %t, %e : tensor<4x4xf32>, tensor<4xf32>
  }
  %y = red.add %x, %bb : tensor<2x4xf32>, tensor<4xf32> -> tensor<2x4xf32>
  func.return %wt, %y : tensor<4x4xf32>, tensor<2x4xf32>
}

// -----

// Each memo gets its own globals, numbered in order; @red_memo_reset clears both flags.
// CHECK-DAG:   "memref.global"() <{sym_name = "__red_memo_0_valid"
// CHECK-DAG:   "memref.global"() <{sym_name = "__red_memo_1_valid"
// CHECK-LABEL: func.func @red_memo_reset() {
// CHECK:         memref.get_global @__red_memo_0_valid
// CHECK-NEXT:    memref.store
// CHECK-NEXT:    memref.get_global @__red_memo_1_valid
// CHECK-NEXT:    memref.store
// CHECK-NEXT:    func.return
func.func @two_memos(%w: tensor<4xf32> {red.invariant}) -> tensor<4xf32> {
  %e = red.memo(%w) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    %x = red.exp %a : tensor<4xf32>
    red.yield %x : tensor<4xf32>
  }
  %t = red.memo(%w) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    %x = red.tanh %a : tensor<4xf32>
    red.yield %x : tensor<4xf32>
  }
  %s = red.add %e, %t : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  func.return %s : tensor<4xf32>
}

// -----

// Without memos, @red_memo_reset does nothing (it is still exported: the C ABI has it).
// CHECK-NOT:   "memref.global"
// CHECK-LABEL: func.func @red_memo_reset() {
// CHECK-NEXT:    func.return
func.func @no_memo(%a: tensor<4xf32>) -> tensor<4xf32> {
  %e = red.exp %a : tensor<4xf32>
  func.return %e : tensor<4xf32>
}
