// RUN: red-opt %s --allow-unregistered-dialect --split-input-file -p merge-identical-functions | filecheck %s

// A duplicate named anywhere (a call, an attribute, inside an array or a dictionary, with a
// nested reference) is renamed to the function kept, and erased.
// CHECK-LABEL: func.func @merged_everywhere
// CHECK-SAME:    (%[[A:.*]]: memref<4xf32>, %[[B:.*]]: memref<4xf32>)
// CHECK-NEXT:    func.call @n0(%[[A]]) : (memref<4xf32>) -> ()
// CHECK-NEXT:    func.call @n0(%[[B]]) : (memref<4xf32>) -> ()
// CHECK-NEXT:    "test.ref"() {fn = @n0, list = [@other, [@n0]], map = {f = @n0::@inner}} : () -> ()
// CHECK:       func.func private @n0(
// CHECK-NOT:   func.func private @n1(
func.func @merged_everywhere(%a: memref<4xf32>, %b: memref<4xf32>) {
  func.call @n0(%a) : (memref<4xf32>) -> ()
  func.call @n1(%b) : (memref<4xf32>) -> ()
  "test.ref"() {fn = @n1, list = [@other, [@n1]], map = {f = @n1::@inner}} : () -> ()
  func.return
}
func.func private @n0(%x: memref<4xf32>) attributes {red.noinline} {
  %c0 = arith.constant 0 : index
  %v = arith.constant 1.0 : f32
  memref.store %v, %x[%c0] : memref<4xf32>
  func.return
}
func.func private @n1(%x: memref<4xf32>) attributes {red.noinline} {
  %c0 = arith.constant 0 : index
  %v = arith.constant 1.0 : f32
  memref.store %v, %x[%c0] : memref<4xf32>
  func.return
}

// -----

// Bodies that differ only in a constant (1.0 / 2.0, 0.0 / -0.0), or in the order they read
// their arguments, stay apart.
// CHECK-LABEL: func.func @no_merge_of_other_constants_or_argument_order
// CHECK-NEXT:    func.call @c1(
// CHECK-NEXT:    func.call @c2(
// CHECK-NEXT:    func.call @z0(
// CHECK-NEXT:    func.call @z1(
// CHECK-NEXT:    func.call @xy(
// CHECK-NEXT:    func.call @yx(
// CHECK-COUNT-6: func.func private
func.func @no_merge_of_other_constants_or_argument_order(%a: memref<4xf32>, %b: memref<4xf32>) {
  func.call @c1(%a) : (memref<4xf32>) -> ()
  func.call @c2(%a) : (memref<4xf32>) -> ()
  func.call @z0(%a) : (memref<4xf32>) -> ()
  func.call @z1(%a) : (memref<4xf32>) -> ()
  func.call @xy(%a, %b) : (memref<4xf32>, memref<4xf32>) -> ()
  func.call @yx(%a, %b) : (memref<4xf32>, memref<4xf32>) -> ()
  func.return
}
func.func private @c1(%x: memref<4xf32>) attributes {red.noinline} {
  %c0 = arith.constant 0 : index
  %v = arith.constant 1.0 : f32
  memref.store %v, %x[%c0] : memref<4xf32>
  func.return
}
func.func private @c2(%x: memref<4xf32>) attributes {red.noinline} {
  %c0 = arith.constant 0 : index
  %v = arith.constant 2.0 : f32
  memref.store %v, %x[%c0] : memref<4xf32>
  func.return
}
func.func private @z0(%x: memref<4xf32>) attributes {red.noinline} {
  %c0 = arith.constant 0 : index
  %v = arith.constant 0.0 : f32
  memref.store %v, %x[%c0] : memref<4xf32>
  func.return
}
func.func private @z1(%x: memref<4xf32>) attributes {red.noinline} {
  %c0 = arith.constant 0 : index
  %v = arith.constant -0.0 : f32
  memref.store %v, %x[%c0] : memref<4xf32>
  func.return
}
func.func private @xy(%x: memref<4xf32>, %y: memref<4xf32>) attributes {red.noinline} {
  %c0 = arith.constant 0 : index
  %v = memref.load %x[%c0] : memref<4xf32>
  memref.store %v, %y[%c0] : memref<4xf32>
  func.return
}
func.func private @yx(%x: memref<4xf32>, %y: memref<4xf32>) attributes {red.noinline} {
  %c0 = arith.constant 0 : index
  %v = memref.load %y[%c0] : memref<4xf32>
  memref.store %v, %x[%c0] : memref<4xf32>
  func.return
}

// -----

// Bodies that differ in a global they read, a result count, an element type or a memref
// layout stay apart; so do functions not outlined (public, or without red.noinline).
// CHECK-LABEL: func.func @no_merge_of_other_symbols_types_or_layouts
// CHECK-NEXT:    func.call @read_g0(
// CHECK-NEXT:    func.call @read_g1(
// CHECK-NEXT:    func.call @one_result(
// CHECK-NEXT:    %{{.*}} = func.call @two_results(
// CHECK-NEXT:    func.call @f32_store(
// CHECK-NEXT:    func.call @f64_store(
// CHECK-NEXT:    func.call @strided_store(
// CHECK-NEXT:    func.call @public_store(
// CHECK-NEXT:    func.call @inlinable_store(
// CHECK-COUNT-9: func.func
"memref.global"() <{sym_name = "g0", type = memref<4xf32>, initial_value, sym_visibility = "private"}> : () -> ()
"memref.global"() <{sym_name = "g1", type = memref<4xf32>, initial_value, sym_visibility = "private"}> : () -> ()
func.func @no_merge_of_other_symbols_types_or_layouts(%a: memref<4xf32>, %s: memref<4xf32, strided<[2]>>, %d: memref<4xf64>) {
  func.call @read_g0(%a) : (memref<4xf32>) -> ()
  func.call @read_g1(%a) : (memref<4xf32>) -> ()
  func.call @one_result(%a) : (memref<4xf32>) -> ()
  %r:2 = func.call @two_results(%a) : (memref<4xf32>) -> (index, index)
  func.call @f32_store(%a) : (memref<4xf32>) -> ()
  func.call @f64_store(%d) : (memref<4xf64>) -> ()
  func.call @strided_store(%s) : (memref<4xf32, strided<[2]>>) -> ()
  func.call @public_store(%a) : (memref<4xf32>) -> ()
  func.call @inlinable_store(%a) : (memref<4xf32>) -> ()
  func.return
}
func.func private @read_g0(%x: memref<4xf32>) attributes {red.noinline} {
  %c0 = arith.constant 0 : index
  %g = memref.get_global @g0 : memref<4xf32>
  %v = memref.load %g[%c0] : memref<4xf32>
  memref.store %v, %x[%c0] : memref<4xf32>
  func.return
}
func.func private @read_g1(%x: memref<4xf32>) attributes {red.noinline} {
  %c0 = arith.constant 0 : index
  %g = memref.get_global @g1 : memref<4xf32>
  %v = memref.load %g[%c0] : memref<4xf32>
  memref.store %v, %x[%c0] : memref<4xf32>
  func.return
}
func.func private @one_result(%x: memref<4xf32>) attributes {red.noinline} {
  func.return
}
func.func private @two_results(%x: memref<4xf32>) -> (index, index) attributes {red.noinline} {
  %c0 = arith.constant 0 : index
  func.return %c0, %c0 : index, index
}
func.func private @f32_store(%x: memref<4xf32>) attributes {red.noinline} {
  %c0 = arith.constant 0 : index
  %v = arith.constant 1.0 : f32
  memref.store %v, %x[%c0] : memref<4xf32>
  func.return
}
func.func private @f64_store(%x: memref<4xf64>) attributes {red.noinline} {
  %c0 = arith.constant 0 : index
  %v = arith.constant 1.0 : f64
  memref.store %v, %x[%c0] : memref<4xf64>
  func.return
}
func.func private @strided_store(%x: memref<4xf32, strided<[2]>>) attributes {red.noinline} {
  %c0 = arith.constant 0 : index
  %v = arith.constant 1.0 : f32
  memref.store %v, %x[%c0] : memref<4xf32, strided<[2]>>
  func.return
}
func.func @public_store(%x: memref<4xf32>) attributes {red.noinline} {
  %c0 = arith.constant 0 : index
  %v = arith.constant 1.0 : f32
  memref.store %v, %x[%c0] : memref<4xf32>
  func.return
}
func.func private @inlinable_store(%x: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %v = arith.constant 1.0 : f32
  memref.store %v, %x[%c0] : memref<4xf32>
  func.return
}
