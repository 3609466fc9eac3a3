// RUN: red-opt %s -p 'canonicalize,incrementalize{entry-points=true block-size=2},canonicalize,cse,dce' | filecheck %s
// RUN: not red-opt %s -p 'incrementalize{entry-points=true block-size=0}' 2>&1 | filecheck %s --check-prefix=BAD-SIZE
// RUN: red-opt %s -p 'canonicalize,incrementalize{entry-points=true block-size=100}' | filecheck %s --check-prefix=CLAMPED

// The decoder of incrementalize.mlir: beside the incrementalized @generate, the entry points
// a generation runtime calls to start from a cached prompt prefix. @generate_prefill_block
// computes state rows [start, start + 2) on top of the given states (one key and one value
// row per token); @generate_decode runs the incremental steps from position t0.
// CHECK-LABEL: func.func @generate(
// CHECK:         scf.for
// CHECK:         } {red.incremental}

// CHECK-LABEL: func.func @generate_decode
// CHECK-SAME:    (%[[TOKENS:.*]]: tensor<1x6xi64>, %{{.*}}: tensor<8x4xf32> {red.invariant}, %{{.*}} {red.invariant}, %[[WK:.*]]: tensor<4x4xf32> {red.invariant}, %{{.*}} {red.invariant}, %[[S0:.*]]: tensor<6x4xf32>, %[[S1:.*]]: tensor<6x4xf32>, %[[T0:.*]]: index) -> tensor<1x6xi64>
// CHECK:         %[[OUT:.*]], %{{.*}}, %{{.*}} = scf.for %[[T:.*]] = %[[T0]] to %{{.*}} step %{{.*}} iter_args(%{{.*}} = %[[TOKENS]], %[[K:.*]] = %[[S0]], %{{.*}} = %[[S1]])
// CHECK:           %[[PREV:.*]] = arith.subi %[[T]]
// CHECK:           %[[KROW:.*]] = red.matmul %{{.*}}, %[[WK]] : tensor<1x4xf32>, tensor<4x4xf32> -> tensor<1x4xf32>
// CHECK-NEXT:      red.dynamic_update_slice %[[K]], %[[KROW]][%[[PREV]], %{{.*}}]
// CHECK:         } {red.incremental}
// CHECK-NEXT:    func.return %[[OUT]] : tensor<1x6xi64>

// CHECK-LABEL: func.func @generate_prefill_block
// CHECK-SAME:    (%[[TOKENS:.*]]: tensor<1x6xi64>, %[[WTE:.*]]: tensor<8x4xf32> {red.invariant}, %{{.*}} {red.invariant}, %[[WK:.*]]: tensor<4x4xf32> {red.invariant}, %[[WV:.*]]: tensor<4x4xf32> {red.invariant}, %[[S0:.*]]: tensor<6x4xf32>, %[[S1:.*]]: tensor<6x4xf32>, %[[START:.*]]: index) -> (tensor<6x4xf32>, tensor<6x4xf32>)
// CHECK-SAME:    attributes {red.state_axes = [0 : i64, 0 : i64], red.block_size = 2 : i64}
// CHECK:         %[[ROWS:.*]] = red.dynamic_slice %[[TOKENS]][%{{.*}}, %[[START]]] sizes = [1, 2] : (tensor<1x6xi64>, index, index) -> tensor<1x2xi64>
// CHECK-NEXT:    %[[IDS:.*]] = red.reshape %[[ROWS]] : tensor<1x2xi64> -> tensor<2xi64>
// CHECK-NEXT:    %[[X:.*]] = red.gather %[[WTE]], %[[IDS]] axis = 0 : tensor<8x4xf32>, tensor<2xi64> -> tensor<2x4xf32>
// CHECK-NEXT:    %[[K:.*]] = red.matmul %[[X]], %[[WK]] : tensor<2x4xf32>, tensor<4x4xf32> -> tensor<2x4xf32>
// CHECK-NEXT:    %[[KS:.*]] = red.dynamic_update_slice %[[S0]], %[[K]][%[[START]], %{{.*}}] : (tensor<6x4xf32>, tensor<2x4xf32>, index, index) -> tensor<6x4xf32>
// CHECK-NEXT:    %[[V:.*]] = red.matmul %[[X]], %[[WV]] : tensor<2x4xf32>, tensor<4x4xf32> -> tensor<2x4xf32>
// CHECK-NEXT:    %[[VS:.*]] = red.dynamic_update_slice %[[S1]], %[[V]][%[[START]], %{{.*}}]
// CHECK-NEXT:    func.return %[[KS]], %[[VS]] : tensor<6x4xf32>, tensor<6x4xf32>

// BAD-SIZE: error: block-size must be >= 1, got 0

// A block cannot be larger than the buffer: it is clamped to the 6 positions.
// CLAMPED-LABEL: func.func @generate_prefill_block
// CLAMPED-SAME:    red.block_size = 6 : i64
// CLAMPED:         red.dynamic_slice %{{.*}} sizes = [1, 6]

func.func @generate(%prompt: tensor<1x2xi64>, %wte: tensor<8x4xf32> {red.invariant}, %wq: tensor<4x4xf32> {red.invariant}, %wk: tensor<4x4xf32> {red.invariant}, %wv: tensor<4x4xf32> {red.invariant}) -> tensor<1x6xi64> {
  %pad = red.constant dense<0> : tensor<1x4xi64>
  %tokens0 = red.concat %prompt, %pad axis = 1 : tensor<1x2xi64>, tensor<1x4xi64> -> tensor<1x6xi64>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c6 = arith.constant 6 : index
  %out = scf.for %t = %c2 to %c6 step %c1 iter_args(%tok = %tokens0) -> (tensor<1x6xi64>) {
    %ids = red.reshape %tok : tensor<1x6xi64> -> tensor<6xi64>
    %x = red.gather %wte, %ids axis = 0 : tensor<8x4xf32>, tensor<6xi64> -> tensor<6x4xf32>
    %q = red.matmul %x, %wq : tensor<6x4xf32>, tensor<4x4xf32> -> tensor<6x4xf32>
    %k = red.matmul %x, %wk : tensor<6x4xf32>, tensor<4x4xf32> -> tensor<6x4xf32>
    %v = red.matmul %x, %wv : tensor<6x4xf32>, tensor<4x4xf32> -> tensor<6x4xf32>
    %kt = red.transpose %k [1, 0] : tensor<6x4xf32> -> tensor<4x6xf32>
    %s = red.matmul %q, %kt : tensor<6x4xf32>, tensor<4x6xf32> -> tensor<6x6xf32>
    %rows = red.iota dim = 0 : tensor<6x6xi64>
    %cols = red.iota dim = 1 : tensor<6x6xi64>
    %causal = red.le %cols, %rows : tensor<6x6xi64>, tensor<6x6xi64> -> tensor<6x6xi1>
    %fill = red.constant dense<-1.0e+09> : tensor<f32>
    %masked = red.select %causal, %s, %fill : tensor<6x6xi1>, tensor<6x6xf32>, tensor<f32> -> tensor<6x6xf32>
    %p = red.softmax %masked axis = 1 : tensor<6x6xf32>
    %a = red.matmul %p, %v : tensor<6x6xf32>, tensor<6x4xf32> -> tensor<6x4xf32>
    %h = red.add %x, %a : tensor<6x4xf32>, tensor<6x4xf32> -> tensor<6x4xf32>
    %wt = red.transpose %wte [1, 0] : tensor<8x4xf32> -> tensor<4x8xf32>
    %logits = red.matmul %h, %wt : tensor<6x4xf32>, tensor<4x8xf32> -> tensor<6x8xf32>
    %l3 = red.reshape %logits : tensor<6x8xf32> -> tensor<1x6x8xf32>
    %tm1 = arith.subi %t, %c1 : index
    %row = red.dynamic_slice %l3 [%c0, %tm1, %c0] sizes = [1, 1, 8] : (tensor<1x6x8xf32>, index, index, index) -> tensor<1x1x8xf32>
    %next = red.argmax %row axis = 2 : tensor<1x1x8xf32> -> tensor<1x1xi64>
    %new = red.dynamic_update_slice %tok, %next [%c0, %t] : (tensor<1x6xi64>, tensor<1x1xi64>, index, index) -> tensor<1x6xi64>
    scf.yield %new : tensor<1x6xi64>
  }
  func.return %out : tensor<1x6xi64>
}


