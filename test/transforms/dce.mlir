// RUN: red-opt %s -p dce --split-input-file | filecheck %s

// A chain of dead pure ops dies in one run; a value with several uses lives while one
// use lives.
// CHECK-LABEL: func.func @dead_pure_chain
// CHECK-SAME:    (%[[X:.*]]: tensor<4xf32>)
// CHECK-NEXT:    %[[E:.*]] = red.exp %[[X]]
// CHECK-NEXT:    %[[M:.*]] = red.mul %[[E]], %[[E]]
// CHECK-NOT:     red.
// CHECK:         func.return %[[M]]
func.func @dead_pure_chain(%x: tensor<4xf32>) -> tensor<4xf32> {
  %e = red.exp %x : tensor<4xf32>
  %n = red.neg %e : tensor<4xf32>
  %t = red.transpose %n [0] : tensor<4xf32> -> tensor<4xf32>
  %c = red.constant dense<2.0> : tensor<4xf32>
  %s = red.add %t, %c : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %m = red.mul %e, %e : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %r = red.reduce_sum %s axes = [0] : tensor<4xf32> -> tensor<f32>
  func.return %m : tensor<4xf32>
}

// -----

// Dead pure region ops (scf.if with pure bodies, red.memo) and dead calls to pure
// functions die too.
// CHECK-LABEL: func.func @dead_region_ops_and_calls
// CHECK-SAME:    (%[[C:.*]]: i1, %[[X:.*]]: tensor<4xf32> {red.invariant})
// CHECK-NOT:     scf.if
// CHECK-NOT:     red.memo
// CHECK-NOT:     func.call
// CHECK:         func.return %[[X]]
func.func private @pure_helper(%x: tensor<4xf32>) -> tensor<4xf32> {
  %e = red.exp %x : tensor<4xf32>
  func.return %e : tensor<4xf32>
}
func.func @dead_region_ops_and_calls(%c: i1, %x: tensor<4xf32> {red.invariant}) -> tensor<4xf32> {
  %r = scf.if %c -> (tensor<4xf32>) {
    %n = red.neg %x : tensor<4xf32>
    scf.yield %n : tensor<4xf32>
  } else {
    scf.yield %x : tensor<4xf32>
  }
  %m = red.memo(%x) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    %t = red.tanh %a : tensor<4xf32>
    red.yield %t : tensor<4xf32>
  }
  %p = func.call @pure_helper(%x) : (tensor<4xf32>) -> tensor<4xf32>
  func.return %x : tensor<4xf32>
}

// -----

// Ops with side effects stay although their results are unused, and so do calls to
// functions with side effects and the values they pass.
// CHECK-LABEL: func.func @effectful
// CHECK-LABEL: func.func @no_dce_side_effects
// CHECK-SAME:    (%[[X:.*]]: tensor<4xf32>, %[[M:.*]]: memref<4xf32>)
// CHECK-NEXT:    %[[A:.*]] = memref.alloc() : memref<4xf32>
// CHECK-NEXT:    %[[I:.*]] = arith.constant 0 : index
// CHECK-NEXT:    %[[V:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT:    memref.store %[[V]], %[[M]][%[[I]]]
// CHECK-NEXT:    %[[L:.*]] = memref.load %[[M]][%[[I]]]
// CHECK-NEXT:    %[[E:.*]] = red.exp %[[X]]
// CHECK-NEXT:    %[[N:.*]] = red.neg %[[X]]
// CHECK-NOT:     red.tanh
// CHECK:         %{{.*}} = func.call @effectful(%[[E]], %[[N]])
// CHECK-NEXT:    func.return
func.func @effectful(%p: tensor<4xf32>, %q: tensor<4xf32>) -> memref<4xf32> {
  %m = memref.alloc() : memref<4xf32>
  func.return %m : memref<4xf32>
}
func.func @no_dce_side_effects(%x: tensor<4xf32>, %m: memref<4xf32>) {
  %a = memref.alloc() : memref<4xf32>
  %i = arith.constant 0 : index
  %v = arith.constant 1.0 : f32
  memref.store %v, %m[%i] : memref<4xf32>
  %l = memref.load %m[%i] : memref<4xf32>
  %e = red.exp %x : tensor<4xf32>
  %n = red.neg %x : tensor<4xf32>
  %t = red.tanh %x : tensor<4xf32>
  %r = func.call @effectful(%e, %n) : (tensor<4xf32>, tensor<4xf32>) -> memref<4xf32>
  func.return
}

// -----

// Blocks no path reaches are erased, loops among them and regions in them included; the
// values they used elsewhere then die as well.
// CHECK-LABEL: func.func @unreachable_blocks
// CHECK-SAME:    (%[[C:.*]]: i1, %[[X:.*]]: tensor<4xf32>)
// CHECK-NEXT:    func.return %[[X]]
// CHECK-NEXT:  }
func.func @unreachable_blocks(%c: i1, %x: tensor<4xf32>) -> tensor<4xf32> {
  %e = red.exp %x : tensor<4xf32>
  func.return %x : tensor<4xf32>
^bb1(%p: tensor<4xf32>):
  %n = red.neg %p : tensor<4xf32>
  cf.br ^bb1(%n : tensor<4xf32>)
^bb2:
  %r = scf.if %c -> (tensor<4xf32>) {
    %m = red.neg %e : tensor<4xf32>
    scf.yield %m : tensor<4xf32>
  } else {
    scf.yield %e : tensor<4xf32>
  }
  func.return %r : tensor<4xf32>
}

// -----

// Reachable blocks stay, with the values they pass on.
// CHECK-LABEL: func.func @no_unreachable_blocks
// CHECK:         cf.cond_br %{{.*}}, ^[[BB1:.*]], ^[[BB2:.*]](%{{.*}} : tensor<4xf32>)
// CHECK:       ^[[BB1]]:
// CHECK-NEXT:    %[[E:.*]] = red.exp
// CHECK-NEXT:    cf.br ^[[BB2]](%[[E]] : tensor<4xf32>)
// CHECK:       ^[[BB2]](%[[P:.*]]: tensor<4xf32>):
// CHECK-NEXT:    func.return %[[P]]
func.func @no_unreachable_blocks(%c: i1, %x: tensor<4xf32>) -> tensor<4xf32> {
  cf.cond_br %c, ^bb1, ^bb2(%x : tensor<4xf32>)
^bb1:
  %e = red.exp %x : tensor<4xf32>
  cf.br ^bb2(%e : tensor<4xf32>)
^bb2(%p: tensor<4xf32>):
  func.return %p : tensor<4xf32>
}

// -----

// Private functions nothing uses are erased, also one used only by another erased one
// and a private declaration; public functions stay although nothing calls them.
// CHECK-NOT:   func.func private @unused
// CHECK-NOT:   func.func private @only_called_by_unused
// CHECK-NOT:   func.func private @unused_declaration
// CHECK-LABEL: func.func @public_unused
// CHECK:         red.exp
// CHECK-LABEL: func.func @unused_functions
// CHECK-NOT:   func.func private
func.func private @unused(%x: tensor<4xf32>) -> tensor<4xf32> {
  %r = func.call @only_called_by_unused(%x) : (tensor<4xf32>) -> tensor<4xf32>
  func.return %r : tensor<4xf32>
}
func.func private @only_called_by_unused(%x: tensor<4xf32>) -> tensor<4xf32> {
  %m = memref.alloc() : memref<4xf32>
  func.return %x : tensor<4xf32>
}
func.func private @unused_declaration(tensor<4xf32>) -> tensor<4xf32>
func.func @public_unused(%x: tensor<4xf32>) -> tensor<4xf32> {
  %e = red.exp %x : tensor<4xf32>
  func.return %e : tensor<4xf32>
}
func.func @unused_functions(%x: tensor<4xf32>) -> tensor<4xf32> {
  func.return %x : tensor<4xf32>
}

// -----

// The callee is erased before its caller in module order: the next sweep catches it.
// CHECK-NOT:   func.func private
// CHECK-LABEL: func.func @unused_functions_reverse_order
// CHECK-NOT:   func.func private
func.func private @callee_first(%x: tensor<4xf32>) -> tensor<4xf32> {
  %m = memref.alloc() : memref<4xf32>
  func.return %x : tensor<4xf32>
}
func.func private @caller_second(%x: tensor<4xf32>) -> tensor<4xf32> {
  %r = func.call @callee_first(%x) : (tensor<4xf32>) -> tensor<4xf32>
  func.return %r : tensor<4xf32>
}
func.func @unused_functions_reverse_order(%x: tensor<4xf32>) -> tensor<4xf32> {
  func.return %x : tensor<4xf32>
}

// -----

// An unused argument and an unused result of a private function go, at the definition
// and at every call; then what computed them dies (the third argument fed only the
// dropped result).
// CHECK-LABEL: func.func private @helper
// CHECK-SAME:    (%[[A:.*]]: tensor<4xf32> {red.invariant}) -> tensor<4xf32>
// CHECK-NEXT:    %[[E:.*]] = red.exp %[[A]]
// CHECK-NEXT:    %[[M:.*]] = memref.alloc
// CHECK-NEXT:    func.return %[[E]] : tensor<4xf32>
// CHECK-LABEL: func.func @trim_private_signature
// CHECK-SAME:    (%[[X:.*]]: tensor<4xf32>, %[[Y:.*]]: tensor<4xf32>)
// CHECK-NEXT:    %[[C0:.*]] = func.call @helper(%[[X]]) : (tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT:    %[[C1:.*]] = func.call @helper(%[[Y]]) : (tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT:    %[[S:.*]] = red.add %[[C0]], %[[C1]]
// CHECK-NEXT:    func.return %[[S]], %[[C0]]
func.func private @helper(%a: tensor<4xf32> {red.invariant}, %unused: tensor<4xf32>, %b: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %e = red.exp %a : tensor<4xf32>
  %n = red.neg %b : tensor<4xf32>
  %m = memref.alloc() : memref<4xf32>
  func.return %e, %n : tensor<4xf32>, tensor<4xf32>
}
func.func @trim_private_signature(%x: tensor<4xf32>, %y: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %0:2 = func.call @helper(%x, %y, %x) : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>)
  %1:2 = func.call @helper(%y, %x, %y) : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>)
  %s = red.add %0#0, %1#0 : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  func.return %s, %0#0 : tensor<4xf32>, tensor<4xf32>
}

// -----

// A public function keeps its signature although an argument and a result are unused.
// CHECK-LABEL: func.func @no_trim_public_signature
// CHECK-SAME:    (%{{.*}}: tensor<4xf32>, %{{.*}}: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>)
// CHECK-LABEL: func.func @calls_public
// CHECK:         func.call @no_trim_public_signature(%{{.*}}, %{{.*}}) : (tensor<4xf32>, tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>)
func.func @no_trim_public_signature(%a: tensor<4xf32>, %unused: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %m = memref.alloc() : memref<4xf32>
  func.return %a, %a : tensor<4xf32>, tensor<4xf32>
}
func.func @calls_public(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0:2 = func.call @no_trim_public_signature(%x, %x) : (tensor<4xf32>, tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>)
  func.return %0#0 : tensor<4xf32>
}

// -----

// A private function whose symbol is used other than by func.call (here an attribute)
// keeps its signature: the other user may depend on it.
// CHECK-LABEL: func.func private @referenced
// CHECK-SAME:    (%{{.*}}: tensor<4xf32>, %{{.*}}: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>)
// CHECK-LABEL: func.func @no_trim_referenced_symbol
// CHECK-SAME:    attributes {red.callbacks = [@referenced]}
// CHECK:         func.call @referenced(%{{.*}}, %{{.*}}) : (tensor<4xf32>, tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>)
func.func private @referenced(%a: tensor<4xf32>, %unused: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %m = memref.alloc() : memref<4xf32>
  func.return %a, %a : tensor<4xf32>, tensor<4xf32>
}
func.func @no_trim_referenced_symbol(%x: tensor<4xf32>) -> tensor<4xf32> attributes {red.callbacks = [@referenced]} {
  %0:2 = func.call @referenced(%x, %x) : (tensor<4xf32>, tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>)
  func.return %0#0 : tensor<4xf32>
}

// -----

// A private function used only through an attribute is not erased.
// CHECK-LABEL: func.func private @only_referenced
// CHECK-LABEL: func.func @no_erase_referenced_symbol
func.func private @only_referenced(%a: tensor<4xf32>) -> tensor<4xf32> {
  func.return %a : tensor<4xf32>
}
func.func @no_erase_referenced_symbol(%x: tensor<4xf32>) -> tensor<4xf32> attributes {red.callbacks = [@only_referenced]} {
  func.return %x : tensor<4xf32>
}
