// RUN: red-opt %s -p convert-red-to-loops,outline-loop-nests --split-input-file | filecheck %s
// RUN: red-opt %s -p red-lower --split-input-file | filecheck %s --check-prefix=LLVM

// Each top-level loop nest becomes a private noinline function of the buffers it reads and
// writes, called in its place; the constants it needs are cloned in, not passed.
// CHECK-LABEL: func.func @red_main
// CHECK-SAME:    (%[[A:.*]]: memref<8x8xf32>, %[[RES:.*]]: memref<8x8xf32>)
// CHECK:         %[[T:.*]] = memref.alloc() : memref<8x8xf32>
// CHECK-NEXT:    func.call @[[N0:__red_red_main_nest0]](%[[A]], %[[T]]) : (memref<8x8xf32>, memref<8x8xf32>) -> ()
// CHECK-NEXT:    func.call @[[N1:__red_red_main_nest1]](%[[T]], %[[RES]]) : (memref<8x8xf32>, memref<8x8xf32>) -> ()
// CHECK-NEXT:    memref.dealloc %[[T]]
// CHECK-NOT:     scf.for
// CHECK:         func.return
// CHECK:       func.func private @[[N1]]({{.*}}) attributes {red.noinline} {
// CHECK:         arith.constant 0xff800000 : f32
// CHECK:         scf.for
// CHECK:       func.func private @[[N0]]({{.*}}) attributes {red.noinline} {
// CHECK:         math.tanh
// LLVM-LABEL: llvm.func @red_main
// LLVM:         llvm.call @__red_red_main_nest0(
func.func @main(%a: tensor<8x8xf32>) -> tensor<8x8xf32> {
  %e = red.exp %a : tensor<8x8xf32>
  %t = red.tanh %e : tensor<8x8xf32>
  %s = red.softmax %t axis = 0 : tensor<8x8xf32>
  func.return %s : tensor<8x8xf32>
}

// -----

// A nest of fewer ops than min-ops (8) stays where it is.
// CHECK-LABEL: func.func @red_no_outline_of_a_small_nest
// CHECK:         scf.for
// CHECK-NOT:     func.call
// CHECK-NOT:     func.func private
func.func @no_outline_of_a_small_nest(%a: tensor<4xf32>) -> tensor<4xf32> {
  %n = red.neg %a : tensor<4xf32>
  func.return %n : tensor<4xf32>
}

// -----

// A large elementwise nest (at least 2^15 elements) is marked red.parallel on its first loop
// of extent > 1 (the unit dim gets none); outlined, it takes that loop's bounds as its last
// two arguments, and its call site calls a caller of the same arguments (red.parallel_nest
// names the nest) which the JIT may redefine to run subranges on threads.
// CHECK-LABEL: func.func @red_parallel_nest
// CHECK-SAME:    (%[[A:.*]]: memref<1x256x128xf32>, %[[B:.*]]: memref<128xf32>, %[[RES:.*]]: memref<1x256x128xf32>)
// CHECK-DAG:     %[[ZERO:.*]] = arith.constant 0 : index
// CHECK-DAG:     %[[ROWS:.*]] = arith.constant 256 : index
// CHECK:         func.call @[[CALLER:__red_red_parallel_nest_nest0]](%[[A]], %[[B]], %[[RES]], %[[ZERO]], %[[ROWS]])
// CHECK:       func.func private @[[CALLER]](%[[CA:.*]]: memref<1x256x128xf32>, %[[CB:.*]]: memref<128xf32>, %[[CR:.*]]: memref<1x256x128xf32>, %[[CLO:.*]]: index, %[[CHI:.*]]: index) attributes {red.parallel_nest = @[[RANGE:__red_red_parallel_nest_nest0_range0]]} {
// CHECK-NEXT:    func.call @[[RANGE]](%[[CA]], %[[CB]], %[[CR]], %[[CLO]], %[[CHI]])
// CHECK-NEXT:    func.return
// CHECK:       func.func private @[[RANGE]]({{.*}}, %[[LO:.*]]: index, %[[HI:.*]]: index) attributes {red.noinline} {
// CHECK:         scf.for %[[I:.*]] = %[[LO]] to %[[HI]] step
// CHECK:           math.tanh
// CHECK:         } {red.parallel}
// LLVM-LABEL: llvm.func @red_parallel_nest
// LLVM:         llvm.call @__red_red_parallel_nest_nest0(
// LLVM:       llvm.func internal @__red_red_parallel_nest_nest0({{.*}}) attributes {red.parallel_nest = @__red_red_parallel_nest_nest0_range0}
func.func @parallel_nest(%a: tensor<1x256x128xf32>, %b: tensor<128xf32>) -> tensor<1x256x128xf32> {
  %s = red.add %a, %b : tensor<1x256x128xf32>, tensor<128xf32> -> tensor<1x256x128xf32>
  %t = red.tanh %s : tensor<1x256x128xf32>
  func.return %t : tensor<1x256x128xf32>
}

// -----

// Below 2^15 elements the nest is outlined as any other (no bounds passed, no caller).
// CHECK-LABEL: func.func @red_serial_nest
// CHECK:         func.call @[[N:__red_red_serial_nest_nest0]](%{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}) :
// CHECK-NOT:     red.parallel
// CHECK:       func.func private @[[N]]({{.*}}) attributes {red.noinline} {
// CHECK-NOT:     red.parallel
func.func @serial_nest(%a: tensor<1x255x128xf32>, %b: tensor<128xf32>) -> tensor<1x255x128xf32> {
  %s = red.add %a, %b : tensor<1x255x128xf32>, tensor<128xf32> -> tensor<1x255x128xf32>
  %t = red.tanh %s : tensor<1x255x128xf32>
  func.return %t : tensor<1x255x128xf32>
}
