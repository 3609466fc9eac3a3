// RUN: red-opt %s -p optimize-chains --split-input-file | filecheck %s
// RUN: red-opt %s -p 'optimize-chains{reassoc=false}' --split-input-file | filecheck %s --check-prefix=NOREASSOC

// x·A·B with x of seq rows: (x·A)·B costs 1048576*seq FLOPs, x·(A·B) 8192*seq + 33554432.
// They cross at seq = 32.25, so both orders are kept and seq < 33 takes the first.
// CHECK-LABEL: func.func @dispatch_two_orders
// CHECK-SAME:    (%[[X:.*]]: tensor<?x64xf32> {red.dims = ["seq", ""]}, %[[A:.*]]: tensor<64x4096xf32>, %[[B:.*]]: tensor<4096x64xf32>)
// CHECK-NEXT:    %[[C0:.*]] = arith.constant 0 : index
// CHECK-NEXT:    %[[S:.*]] = tensor.dim %[[X]], %[[C0]] : tensor<?x64xf32>
// CHECK-NEXT:    %[[T:.*]] = arith.constant 33 : index
// CHECK-NEXT:    %[[SMALL:.*]] = arith.cmpi ult, %[[S]], %[[T]] : index
// CHECK-NEXT:    %[[Y:.*]] = scf.if %[[SMALL]] -> (tensor<?x64xf32>) {
// CHECK-NEXT:      %[[XA:.*]] = red.matmul %[[X]], %[[A]] : tensor<?x64xf32>, tensor<64x4096xf32> -> tensor<?x4096xf32>
// CHECK-NEXT:      %[[XAB:.*]] = red.matmul %[[XA]], %[[B]] : tensor<?x4096xf32>, tensor<4096x64xf32> -> tensor<?x64xf32>
// CHECK-NEXT:      scf.yield %[[XAB]] : tensor<?x64xf32>
// CHECK-NEXT:    } else {
// CHECK-NEXT:      %[[AB:.*]] = red.matmul %[[A]], %[[B]] : tensor<64x4096xf32>, tensor<4096x64xf32> -> tensor<64x64xf32>
// CHECK-NEXT:      %[[X_AB:.*]] = red.matmul %[[X]], %[[AB]] : tensor<?x64xf32>, tensor<64x64xf32> -> tensor<?x64xf32>
// CHECK-NEXT:      scf.yield %[[X_AB]] : tensor<?x64xf32>
// CHECK-NEXT:    }{red.size_dispatch}
// CHECK-NEXT:    func.return %[[Y]] : tensor<?x64xf32>
// Without reassociation nothing is reordered, so nothing is dispatched.
// NOREASSOC-LABEL: func.func @dispatch_two_orders
// NOREASSOC-NOT:     scf.if
// NOREASSOC:         red.matmul
// NOREASSOC-NOT:     scf.if
// NOREASSOC:         func.return
func.func @dispatch_two_orders(%x: tensor<?x64xf32> {red.dims = ["seq", ""]}, %a: tensor<64x4096xf32>, %b: tensor<4096x64xf32>) -> tensor<?x64xf32> {
  %xa = red.matmul %x, %a : tensor<?x64xf32>, tensor<64x4096xf32> -> tensor<?x4096xf32>
  %y = red.matmul %xa, %b : tensor<?x4096xf32>, tensor<4096x64xf32> -> tensor<?x64xf32>
  func.return %y : tensor<?x64xf32>
}

// -----

// A low-rank product: (x·A)·B costs 24576*seq, x·(A·B) 1179648*seq + 9437184. The written
// order wins at every size: no dispatch, no size read, the chain stays as it is.
// CHECK-LABEL: func.func @no_dispatch_low_rank
// CHECK-SAME:    (%[[X:.*]]: tensor<?x768xf32> {red.dims = ["seq", ""]}, %[[A:.*]]: tensor<768x8xf32>, %[[B:.*]]: tensor<8x768xf32>)
// CHECK-NOT:     tensor.dim
// CHECK:         %[[XA:.*]] = red.matmul %[[X]], %[[A]]
// CHECK-NEXT:    %[[Y:.*]] = red.matmul %[[XA]], %[[B]]
// CHECK-NEXT:    func.return %[[Y]] : tensor<?x768xf32>
func.func @no_dispatch_low_rank(%x: tensor<?x768xf32> {red.dims = ["seq", ""]}, %a: tensor<768x8xf32>, %b: tensor<8x768xf32>) -> tensor<?x768xf32> {
  %xa = red.matmul %x, %a : tensor<?x768xf32>, tensor<768x8xf32> -> tensor<?x8xf32>
  %y = red.matmul %xa, %b : tensor<?x8xf32>, tensor<8x768xf32> -> tensor<?x768xf32>
  func.return %y : tensor<?x768xf32>
}

// -----

// The same product written x·(A·B): one order is best at every size, so the chain is
// reordered without a branch.
// CHECK-LABEL: func.func @reorder_low_rank_without_dispatch
// CHECK-SAME:    (%[[X:.*]]: tensor<?x768xf32> {red.dims = ["seq", ""]}, %[[A:.*]]: tensor<768x8xf32>, %[[B:.*]]: tensor<8x768xf32>)
// CHECK-NOT:     scf.if
// CHECK:         %[[XA:.*]] = red.matmul %[[X]], %[[A]] : tensor<?x768xf32>, tensor<768x8xf32> -> tensor<?x8xf32>
// CHECK-NEXT:    %[[Y:.*]] = red.matmul %[[XA]], %[[B]] : tensor<?x8xf32>, tensor<8x768xf32> -> tensor<?x768xf32>
// CHECK-NEXT:    func.return %[[Y]] : tensor<?x768xf32>
func.func @reorder_low_rank_without_dispatch(%x: tensor<?x768xf32> {red.dims = ["seq", ""]}, %a: tensor<768x8xf32>, %b: tensor<8x768xf32>) -> tensor<?x768xf32> {
  %ab = red.matmul %a, %b : tensor<768x8xf32>, tensor<8x768xf32> -> tensor<768x768xf32>
  %y = red.matmul %x, %ab : tensor<?x768xf32>, tensor<768x768xf32> -> tensor<?x768xf32>
  func.return %y : tensor<?x768xf32>
}

// -----

// Three orders are each the cheapest somewhere: 57344*seq below 12, 33792*seq + 262144
// from 12 (x·(A·B))·C, 16384*seq + 786432 from 31 x·((A·B)·C). The chain's result has two
// uses; both read the dispatch.
// CHECK-LABEL: func.func @dispatch_three_orders
// CHECK-SAME:    (%[[X:.*]]: tensor<?x16xf32> {red.dims = ["seq", ""]}, %[[A:.*]]: tensor<16x256xf32>, %[[B:.*]]: tensor<256x32xf32>, %[[C:.*]]: tensor<32x512xf32>)
// CHECK:         %[[S:.*]] = tensor.dim %[[X]], %{{.*}} : tensor<?x16xf32>
// CHECK-NEXT:    %[[T12:.*]] = arith.constant 12 : index
// CHECK-NEXT:    %[[LT12:.*]] = arith.cmpi ult, %[[S]], %[[T12]] : index
// CHECK-NEXT:    %[[Y:.*]] = scf.if %[[LT12]] -> (tensor<?x512xf32>) {
// CHECK-NEXT:      %[[XA:.*]] = red.matmul %[[X]], %[[A]]
// CHECK-NEXT:      %[[XAB:.*]] = red.matmul %[[XA]], %[[B]]
// CHECK-NEXT:      %[[XABC:.*]] = red.matmul %[[XAB]], %[[C]]
// CHECK-NEXT:      scf.yield %[[XABC]] : tensor<?x512xf32>
// CHECK-NEXT:    } else {
// CHECK-NEXT:      %[[T31:.*]] = arith.constant 31 : index
// CHECK-NEXT:      %[[LT31:.*]] = arith.cmpi ult, %[[S]], %[[T31]] : index
// CHECK-NEXT:      %[[MID:.*]] = scf.if %[[LT31]] -> (tensor<?x512xf32>) {
// CHECK-NEXT:        %[[AB:.*]] = red.matmul %[[A]], %[[B]] : tensor<16x256xf32>, tensor<256x32xf32> -> tensor<16x32xf32>
// CHECK-NEXT:        %[[X_AB:.*]] = red.matmul %[[X]], %[[AB]]
// CHECK-NEXT:        %[[X_AB_C:.*]] = red.matmul %[[X_AB]], %[[C]]
// CHECK-NEXT:        scf.yield %[[X_AB_C]] : tensor<?x512xf32>
// CHECK-NEXT:      } else {
// CHECK-NEXT:        %[[AB2:.*]] = red.matmul %[[A]], %[[B]] : tensor<16x256xf32>, tensor<256x32xf32> -> tensor<16x32xf32>
// CHECK-NEXT:        %[[ABC:.*]] = red.matmul %[[AB2]], %[[C]] : tensor<16x32xf32>, tensor<32x512xf32> -> tensor<16x512xf32>
// CHECK-NEXT:        %[[X_ABC:.*]] = red.matmul %[[X]], %[[ABC]]
// CHECK-NEXT:        scf.yield %[[X_ABC]] : tensor<?x512xf32>
// CHECK-NEXT:      }{red.size_dispatch}
// CHECK-NEXT:      scf.yield %[[MID]] : tensor<?x512xf32>
// CHECK-NEXT:    }{red.size_dispatch}
// CHECK-NEXT:    %[[Z:.*]] = red.relu %[[Y]] : tensor<?x512xf32>
// CHECK-NEXT:    func.return %[[Y]], %[[Z]] : tensor<?x512xf32>, tensor<?x512xf32>
func.func @dispatch_three_orders(%x: tensor<?x16xf32> {red.dims = ["seq", ""]}, %a: tensor<16x256xf32>, %b: tensor<256x32xf32>, %c: tensor<32x512xf32>) -> (tensor<?x512xf32>, tensor<?x512xf32>) {
  %xa = red.matmul %x, %a : tensor<?x16xf32>, tensor<16x256xf32> -> tensor<?x256xf32>
  %xb = red.matmul %xa, %b : tensor<?x256xf32>, tensor<256x32xf32> -> tensor<?x32xf32>
  %y = red.matmul %xb, %c : tensor<?x32xf32>, tensor<32x512xf32> -> tensor<?x512xf32>
  %z = red.relu %y : tensor<?x512xf32>
  func.return %y, %z : tensor<?x512xf32>, tensor<?x512xf32>
}

// -----

// Two symbols (seq and k) in one chain: the crossover is a curve, not a size; left as is.
// CHECK-LABEL: func.func @no_dispatch_two_symbols
// CHECK-SAME:    (%[[X:.*]]: tensor<?x64xf32> {red.dims = ["seq", ""]}, %[[A:.*]]: tensor<64x?xf32> {red.dims = ["", "k"]}, %[[B:.*]]: tensor<?x64xf32> {red.dims = ["k", ""]})
// CHECK-NOT:     scf.if
// CHECK:         %[[XA:.*]] = red.matmul %[[X]], %[[A]]
// CHECK-NEXT:    %[[Y:.*]] = red.matmul %[[XA]], %[[B]]
// CHECK-NEXT:    func.return %[[Y]] : tensor<?x64xf32>
func.func @no_dispatch_two_symbols(%x: tensor<?x64xf32> {red.dims = ["seq", ""]}, %a: tensor<64x?xf32> {red.dims = ["", "k"]}, %b: tensor<?x64xf32> {red.dims = ["k", ""]}) -> tensor<?x64xf32> {
  %xa = red.matmul %x, %a : tensor<?x64xf32>, tensor<64x?xf32> -> tensor<?x?xf32>
  %y = red.matmul %xa, %b : tensor<?x?xf32>, tensor<?x64xf32> -> tensor<?x64xf32>
  func.return %y : tensor<?x64xf32>
}

// -----

// A static chain is planned once, as before: no size read, no branch.
// CHECK-LABEL: func.func @static_chain_cheapest_order
// CHECK-SAME:    (%[[A:.*]]: tensor<10x100xf32>, %[[B:.*]]: tensor<100x5xf32>, %[[C:.*]]: tensor<5x50xf32>)
// CHECK-NOT:     tensor.dim
// CHECK-NOT:     scf.if
// CHECK:         %[[AB:.*]] = red.matmul %[[A]], %[[B]] : tensor<10x100xf32>, tensor<100x5xf32> -> tensor<10x5xf32>
// CHECK-NEXT:    %[[R:.*]] = red.matmul %[[AB]], %[[C]] : tensor<10x5xf32>, tensor<5x50xf32> -> tensor<10x50xf32>
// CHECK-NEXT:    func.return %[[R]] : tensor<10x50xf32>
func.func @static_chain_cheapest_order(%a: tensor<10x100xf32>, %b: tensor<100x5xf32>, %c: tensor<5x50xf32>) -> tensor<10x50xf32> {
  %bc = red.matmul %b, %c : tensor<100x5xf32>, tensor<5x50xf32> -> tensor<100x50xf32>
  %r = red.matmul %a, %bc : tensor<10x100xf32>, tensor<100x50xf32> -> tensor<10x50xf32>
  func.return %r : tensor<10x50xf32>
}
