// RUN: red-opt %s -p optimize-chains,cse,dce --split-input-file | filecheck %s
// RUN: red-opt %s -p 'optimize-chains{reassoc=false}' --split-input-file | filecheck %s --check-prefix=NOREASSOC

// The seed chain A·B·C·A·B computes t = A·B once: t, t·C, (t·C)·t. Three matmuls, and the
// operand order is kept (matrices do not commute: (A·B)²·C would be wrong).
// CHECK-LABEL: func.func @seed_chain
// CHECK-SAME:    (%[[A:.*]]: tensor<8x8xf32>, %[[B:.*]]: tensor<8x8xf32>, %[[C:.*]]: tensor<8x8xf32>)
// CHECK-NEXT:    %[[T:.*]] = red.matmul %[[A]], %[[B]] : tensor<8x8xf32>, tensor<8x8xf32> -> tensor<8x8xf32>
// CHECK-NEXT:    %[[TC:.*]] = red.matmul %[[T]], %[[C]] : tensor<8x8xf32>, tensor<8x8xf32> -> tensor<8x8xf32>
// CHECK-NEXT:    %[[R:.*]] = red.matmul %[[TC]], %[[T]] : tensor<8x8xf32>, tensor<8x8xf32> -> tensor<8x8xf32>
// CHECK-NOT:     red.matmul
// CHECK:         func.return %[[R]] : tensor<8x8xf32>
// With reassoc=false the four left-associated matmuls stay as they are.
// NOREASSOC-LABEL: func.func @seed_chain
// NOREASSOC-SAME:    (%[[A:.*]]: tensor<8x8xf32>, %[[B:.*]]: tensor<8x8xf32>, %[[C:.*]]: tensor<8x8xf32>)
// NOREASSOC-NEXT:    %[[P1:.*]] = red.matmul %[[A]], %[[B]]
// NOREASSOC-NEXT:    %[[P2:.*]] = red.matmul %[[P1]], %[[C]]
// NOREASSOC-NEXT:    %[[P3:.*]] = red.matmul %[[P2]], %[[A]]
// NOREASSOC-NEXT:    %[[P4:.*]] = red.matmul %[[P3]], %[[B]]
// NOREASSOC-NEXT:    func.return %[[P4]] : tensor<8x8xf32>
func.func @seed_chain(%a: tensor<8x8xf32>, %b: tensor<8x8xf32>, %c: tensor<8x8xf32>) -> tensor<8x8xf32> {
  %0 = red.matmul %a, %b : tensor<8x8xf32>, tensor<8x8xf32> -> tensor<8x8xf32>
  %1 = red.matmul %0, %c : tensor<8x8xf32>, tensor<8x8xf32> -> tensor<8x8xf32>
  %2 = red.matmul %1, %a : tensor<8x8xf32>, tensor<8x8xf32> -> tensor<8x8xf32>
  %3 = red.matmul %2, %b : tensor<8x8xf32>, tensor<8x8xf32> -> tensor<8x8xf32>
  func.return %3 : tensor<8x8xf32>
}

// -----

// 10x100 · (100x5 · 5x50) costs 150k FLOPs; (10x100 · 100x5) · 5x50 costs 15k: the
// chain is re-associated to the left.
// CHECK-LABEL: func.func @chain_cheapest_order
// CHECK-SAME:    (%[[A:.*]]: tensor<10x100xf32>, %[[B:.*]]: tensor<100x5xf32>, %[[C:.*]]: tensor<5x50xf32>)
// CHECK-NOT:     red.matmul %[[B]], %[[C]]
// CHECK:         %[[AB:.*]] = red.matmul %[[A]], %[[B]] : tensor<10x100xf32>, tensor<100x5xf32> -> tensor<10x5xf32>
// CHECK-NEXT:    %[[R:.*]] = red.matmul %[[AB]], %[[C]] : tensor<10x5xf32>, tensor<5x50xf32> -> tensor<10x50xf32>
// CHECK-NOT:     red.matmul
// CHECK:         func.return %[[R]] : tensor<10x50xf32>
// NOREASSOC-LABEL: func.func @chain_cheapest_order
// NOREASSOC-SAME:    (%[[A:.*]]: tensor<10x100xf32>, %[[B:.*]]: tensor<100x5xf32>, %[[C:.*]]: tensor<5x50xf32>)
// NOREASSOC-NEXT:    %[[BC:.*]] = red.matmul %[[B]], %[[C]]
// NOREASSOC-NEXT:    %[[R:.*]] = red.matmul %[[A]], %[[BC]]
// NOREASSOC-NEXT:    func.return %[[R]]
func.func @chain_cheapest_order(%a: tensor<10x100xf32>, %b: tensor<100x5xf32>, %c: tensor<5x50xf32>) -> tensor<10x50xf32> {
  %bc = red.matmul %b, %c : tensor<100x5xf32>, tensor<5x50xf32> -> tensor<100x50xf32>
  %r = red.matmul %a, %bc : tensor<10x100xf32>, tensor<100x50xf32> -> tensor<10x50xf32>
  func.return %r : tensor<10x50xf32>
}

// -----

// A chain seen through a transpose: (A·B)ᵀ·C = Bᵀ·Aᵀ·C. With C a single column,
// Bᵀ·(Aᵀ·C) costs 256 FLOPs where (A·B)ᵀ·C costs 1080.
// CHECK-LABEL: func.func @chain_through_transpose
// CHECK-SAME:    (%[[A:.*]]: tensor<6x8xf32>, %[[B:.*]]: tensor<8x10xf32>, %[[C:.*]]: tensor<6x1xf32>)
// CHECK-DAG:     %[[BT:.*]] = red.transpose %[[B]] [1, 0] : tensor<8x10xf32> -> tensor<10x8xf32>
// CHECK-DAG:     %[[AT:.*]] = red.transpose %[[A]] [1, 0] : tensor<6x8xf32> -> tensor<8x6xf32>
// CHECK-NOT:     red.matmul %[[A]], %[[B]]
// CHECK:         %[[ATC:.*]] = red.matmul %[[AT]], %[[C]] : tensor<8x6xf32>, tensor<6x1xf32> -> tensor<8x1xf32>
// CHECK-NEXT:    %[[R:.*]] = red.matmul %[[BT]], %[[ATC]] : tensor<10x8xf32>, tensor<8x1xf32> -> tensor<10x1xf32>
// CHECK-NOT:     red.matmul
// CHECK:         func.return %[[R]] : tensor<10x1xf32>
func.func @chain_through_transpose(%a: tensor<6x8xf32>, %b: tensor<8x10xf32>, %c: tensor<6x1xf32>) -> tensor<10x1xf32> {
  %ab = red.matmul %a, %b : tensor<6x8xf32>, tensor<8x10xf32> -> tensor<6x10xf32>
  %t = red.transpose %ab [1, 0] : tensor<6x10xf32> -> tensor<10x6xf32>
  %r = red.matmul %t, %c : tensor<10x6xf32>, tensor<6x1xf32> -> tensor<10x1xf32>
  func.return %r : tensor<10x1xf32>
}

// -----

// A·(B·C) and (D·A)·B share the product A·B although neither computes it: it is built
// once, before the first chain, and both chains use it (3 matmuls instead of 4).
// CHECK-LABEL: func.func @shared_across_chains
// CHECK-SAME:    (%[[A:.*]]: tensor<8x8xf32>, %[[B:.*]]: tensor<8x8xf32>, %[[C:.*]]: tensor<8x8xf32>, %[[D:.*]]: tensor<8x8xf32>)
// CHECK-NEXT:    %[[T:.*]] = red.matmul %[[A]], %[[B]]
// CHECK-NEXT:    %[[X:.*]] = red.matmul %[[T]], %[[C]]
// CHECK-NEXT:    %[[Y:.*]] = red.matmul %[[D]], %[[T]]
// CHECK-NOT:     red.matmul
// CHECK:         func.return %[[X]], %[[Y]]
func.func @shared_across_chains(%a: tensor<8x8xf32>, %b: tensor<8x8xf32>, %c: tensor<8x8xf32>, %d: tensor<8x8xf32>) -> (tensor<8x8xf32>, tensor<8x8xf32>) {
  %bc = red.matmul %b, %c : tensor<8x8xf32>, tensor<8x8xf32> -> tensor<8x8xf32>
  %x = red.matmul %a, %bc : tensor<8x8xf32>, tensor<8x8xf32> -> tensor<8x8xf32>
  %da = red.matmul %d, %a : tensor<8x8xf32>, tensor<8x8xf32> -> tensor<8x8xf32>
  %y = red.matmul %da, %b : tensor<8x8xf32>, tensor<8x8xf32> -> tensor<8x8xf32>
  func.return %x, %y : tensor<8x8xf32>, tensor<8x8xf32>
}

// -----

// Already the cheapest order (left: 15k FLOPs, right: 150k): nothing changes.
// CHECK-LABEL: func.func @no_reassoc_left_optimal
// CHECK-SAME:    (%[[A:.*]]: tensor<10x100xf32>, %[[B:.*]]: tensor<100x5xf32>, %[[C:.*]]: tensor<5x50xf32>)
// CHECK-NEXT:    %[[AB:.*]] = red.matmul %[[A]], %[[B]] : tensor<10x100xf32>, tensor<100x5xf32> -> tensor<10x5xf32>
// CHECK-NEXT:    %[[R:.*]] = red.matmul %[[AB]], %[[C]] : tensor<10x5xf32>, tensor<5x50xf32> -> tensor<10x50xf32>
// CHECK-NEXT:    func.return %[[R]]
func.func @no_reassoc_left_optimal(%a: tensor<10x100xf32>, %b: tensor<100x5xf32>, %c: tensor<5x50xf32>) -> tensor<10x50xf32> {
  %ab = red.matmul %a, %b : tensor<10x100xf32>, tensor<100x5xf32> -> tensor<10x5xf32>
  %r = red.matmul %ab, %c : tensor<10x5xf32>, tensor<5x50xf32> -> tensor<10x50xf32>
  func.return %r : tensor<10x50xf32>
}

// -----

// Right-associated and already the cheapest (12.5k FLOPs against 150k left-associated):
// the pass does not fall back to a left-associated default.
// CHECK-LABEL: func.func @no_reassoc_right_optimal
// CHECK-SAME:    (%[[A:.*]]: tensor<50x5xf32>, %[[B:.*]]: tensor<5x100xf32>, %[[C:.*]]: tensor<100x10xf32>)
// CHECK-NEXT:    %[[BC:.*]] = red.matmul %[[B]], %[[C]] : tensor<5x100xf32>, tensor<100x10xf32> -> tensor<5x10xf32>
// CHECK-NEXT:    %[[R:.*]] = red.matmul %[[A]], %[[BC]] : tensor<50x5xf32>, tensor<5x10xf32> -> tensor<50x10xf32>
// CHECK-NEXT:    func.return %[[R]]
func.func @no_reassoc_right_optimal(%a: tensor<50x5xf32>, %b: tensor<5x100xf32>, %c: tensor<100x10xf32>) -> tensor<50x10xf32> {
  %bc = red.matmul %b, %c : tensor<5x100xf32>, tensor<100x10xf32> -> tensor<5x10xf32>
  %r = red.matmul %a, %bc : tensor<50x5xf32>, tensor<5x10xf32> -> tensor<50x10xf32>
  func.return %r : tensor<50x10xf32>
}

// -----

// A·B has a second use (it is returned), so it is a leaf of the chain (A·B)·C: the chain
// is not re-associated through it, and A·B is still computed exactly once.
// CHECK-LABEL: func.func @several_uses_leaf
// CHECK-SAME:    (%[[A:.*]]: tensor<50x5xf32>, %[[B:.*]]: tensor<5x100xf32>, %[[C:.*]]: tensor<100x10xf32>)
// CHECK-NEXT:    %[[AB:.*]] = red.matmul %[[A]], %[[B]] : tensor<50x5xf32>, tensor<5x100xf32> -> tensor<50x100xf32>
// CHECK-NEXT:    %[[R:.*]] = red.matmul %[[AB]], %[[C]] : tensor<50x100xf32>, tensor<100x10xf32> -> tensor<50x10xf32>
// CHECK-NOT:     red.matmul
// CHECK:         func.return %[[R]], %[[AB]]
func.func @several_uses_leaf(%a: tensor<50x5xf32>, %b: tensor<5x100xf32>, %c: tensor<100x10xf32>) -> (tensor<50x10xf32>, tensor<50x100xf32>) {
  %ab = red.matmul %a, %b : tensor<50x5xf32>, tensor<5x100xf32> -> tensor<50x100xf32>
  %r = red.matmul %ab, %c : tensor<50x100xf32>, tensor<100x10xf32> -> tensor<50x10xf32>
  func.return %r, %ab : tensor<50x10xf32>, tensor<50x100xf32>
}

// -----

// A chain whose root has several uses is a leaf of a later chain; when another chain of
// the block is re-associated, every chain is rebuilt, and the later chain must read the
// rebuilt root (regression: it read the erased one and the IR did not verify).
// CHECK-LABEL: func.func @rebuilt_root_feeds_later_chain
// CHECK-SAME:    (%[[A:.*]]: tensor<10x100xf32>, %[[B:.*]]: tensor<100x5xf32>, %[[C:.*]]: tensor<5x50xf32>, %[[D:.*]]: tensor<8x8xf32>, %[[E:.*]]: tensor<8x8xf32>, %[[F:.*]]: tensor<8x8xf32>)
// CHECK-NEXT:    %[[DE:.*]] = red.matmul %[[D]], %[[E]]
// CHECK-NEXT:    %[[DEF:.*]] = red.matmul %[[DE]], %[[F]]
// CHECK-NEXT:    %[[AB:.*]] = red.matmul %[[A]], %[[B]]
// CHECK-NEXT:    %[[R:.*]] = red.matmul %[[AB]], %[[C]]
// CHECK-NEXT:    func.return %[[R]], %[[DEF]], %[[DE]]
func.func @rebuilt_root_feeds_later_chain(%a: tensor<10x100xf32>, %b: tensor<100x5xf32>, %c: tensor<5x50xf32>, %d: tensor<8x8xf32>, %e: tensor<8x8xf32>, %f: tensor<8x8xf32>) -> (tensor<10x50xf32>, tensor<8x8xf32>, tensor<8x8xf32>) {
  %de = red.matmul %d, %e : tensor<8x8xf32>, tensor<8x8xf32> -> tensor<8x8xf32>
  %def = red.matmul %de, %f : tensor<8x8xf32>, tensor<8x8xf32> -> tensor<8x8xf32>
  %bc = red.matmul %b, %c : tensor<100x5xf32>, tensor<5x50xf32> -> tensor<100x50xf32>
  %r = red.matmul %a, %bc : tensor<10x100xf32>, tensor<100x50xf32> -> tensor<10x50xf32>
  func.return %r, %def, %de : tensor<10x50xf32>, tensor<8x8xf32>, tensor<8x8xf32>
}

// -----

// Batched (3-D) matmuls are not chains: the pass only re-associates 2-D products.
// CHECK-LABEL: func.func @no_reassoc_batched
// CHECK-SAME:    (%[[A:.*]]: tensor<2x10x100xf32>, %[[B:.*]]: tensor<2x100x5xf32>, %[[C:.*]]: tensor<2x5x50xf32>)
// CHECK-NEXT:    %[[BC:.*]] = red.matmul %[[B]], %[[C]]
// CHECK-NEXT:    %[[R:.*]] = red.matmul %[[A]], %[[BC]]
// CHECK-NEXT:    func.return %[[R]]
func.func @no_reassoc_batched(%a: tensor<2x10x100xf32>, %b: tensor<2x100x5xf32>, %c: tensor<2x5x50xf32>) -> tensor<2x10x50xf32> {
  %bc = red.matmul %b, %c : tensor<2x100x5xf32>, tensor<2x5x50xf32> -> tensor<2x100x50xf32>
  %r = red.matmul %a, %bc : tensor<2x10x100xf32>, tensor<2x100x50xf32> -> tensor<2x10x50xf32>
  func.return %r : tensor<2x10x50xf32>
}

// -----

// The best order depends on the run-time length S of x (x·A·B with A 64x4096, B 4096x64):
// (x·A)·B costs 2^20·S FLOPs, x·(A·B) 2^25 + 2^13·S; the first wins up to S = 32. Both
// orders are built and S, read with tensor.dim, selects one.
// CHECK-LABEL: func.func @dispatch_on_length
// CHECK-SAME:    (%[[X:.*]]: tensor<?x64xf32> {red.dims = ["seq", ""]}, %[[A:.*]]: tensor<64x4096xf32>, %[[B:.*]]: tensor<4096x64xf32>)
// CHECK:         %[[S:.*]] = tensor.dim %[[X]], %{{.*}} : tensor<?x64xf32>
// CHECK-NEXT:    %[[T:.*]] = arith.constant 33 : index
// CHECK-NEXT:    %[[SMALL:.*]] = arith.cmpi ult, %[[S]], %[[T]] : index
// CHECK-NEXT:    %[[Y:.*]] = scf.if %[[SMALL]] -> (tensor<?x64xf32>) {
// CHECK-NEXT:      %[[XA:.*]] = red.matmul %[[X]], %[[A]] : tensor<?x64xf32>, tensor<64x4096xf32> -> tensor<?x4096xf32>
// CHECK-NEXT:      %[[XAB:.*]] = red.matmul %[[XA]], %[[B]]
// CHECK-NEXT:      scf.yield %[[XAB]] : tensor<?x64xf32>
// CHECK-NEXT:    } else {
// CHECK-NEXT:      %[[AB:.*]] = red.matmul %[[A]], %[[B]] : tensor<64x4096xf32>, tensor<4096x64xf32> -> tensor<64x64xf32>
// CHECK-NEXT:      %[[XAB2:.*]] = red.matmul %[[X]], %[[AB]]
// CHECK-NEXT:      scf.yield %[[XAB2]] : tensor<?x64xf32>
// CHECK-NEXT:    }{red.size_dispatch}
// CHECK-NEXT:    func.return %[[Y]]
func.func @dispatch_on_length(%x: tensor<?x64xf32> {red.dims = ["seq", ""]}, %a: tensor<64x4096xf32>, %b: tensor<4096x64xf32>) -> tensor<?x64xf32> {
  %xa = red.matmul %x, %a : tensor<?x64xf32>, tensor<64x4096xf32> -> tensor<?x4096xf32>
  %y = red.matmul %xa, %b : tensor<?x4096xf32>, tensor<4096x64xf32> -> tensor<?x64xf32>
  func.return %y : tensor<?x64xf32>
}

// -----

// Written x·(A·B) with A 64x4 and B 4x64: (x·A)·B is cheaper for every length S (2^10·S
// against 2^15 + 2^13·S FLOPs), so it is simply applied (no dispatch).
// CHECK-LABEL: func.func @one_order_for_every_length
// CHECK-SAME:    (%[[X:.*]]: tensor<?x64xf32> {red.dims = ["seq", ""]}, %[[A:.*]]: tensor<64x4xf32>, %[[B:.*]]: tensor<4x64xf32>)
// CHECK-NOT:     scf.if
// CHECK:         %[[XA:.*]] = red.matmul %[[X]], %[[A]] : tensor<?x64xf32>, tensor<64x4xf32> -> tensor<?x4xf32>
// CHECK-NEXT:    %[[Y:.*]] = red.matmul %[[XA]], %[[B]]
// CHECK-NEXT:    func.return %[[Y]]
func.func @one_order_for_every_length(%x: tensor<?x64xf32> {red.dims = ["seq", ""]}, %a: tensor<64x4xf32>, %b: tensor<4x64xf32>) -> tensor<?x64xf32> {
  %ab = red.matmul %a, %b : tensor<64x4xf32>, tensor<4x64xf32> -> tensor<64x64xf32>
  %y = red.matmul %x, %ab : tensor<?x64xf32>, tensor<64x64xf32> -> tensor<?x64xf32>
  func.return %y : tensor<?x64xf32>
}

// -----

// Two different symbols in one chain: the pass does not guess how they compare.
// CHECK-LABEL: func.func @no_dispatch_on_two_symbols
// CHECK-NOT:     scf.if
// CHECK:         %[[XA:.*]] = red.matmul %{{.*}}, %{{.*}} : tensor<?x?xf32>, tensor<?x64xf32> -> tensor<?x64xf32>
// CHECK-NEXT:    red.matmul %[[XA]], %{{.*}}
func.func @no_dispatch_on_two_symbols(%x: tensor<?x?xf32> {red.dims = ["seq", "k"]}, %a: tensor<?x64xf32> {red.dims = ["k", ""]}, %b: tensor<64x8xf32>) -> tensor<?x8xf32> {
  %xa = red.matmul %x, %a : tensor<?x?xf32>, tensor<?x64xf32> -> tensor<?x64xf32>
  %y = red.matmul %xa, %b : tensor<?x64xf32>, tensor<64x8xf32> -> tensor<?x8xf32>
  func.return %y : tensor<?x8xf32>
}
