// Every red op in custom form: print -> parse -> print is stable, and the generic form parses
// back to the same custom form.
// RUN: red-opt %s | red-opt | filecheck %s
// RUN: red-opt %s --mlir-print-op-generic | red-opt | filecheck %s
// RUN: red-opt %s --mlir-print-op-generic | filecheck %s --check-prefix=GENERIC

// Dense, splat and i1 constants, and arith.constant of tensor type beside them.
// CHECK-LABEL: func.func @constant_forms()
// CHECK-NEXT:    %[[D:.*]] = red.constant dense<[1.000000e+00, 2.500000e+00, -3.000000e+00]> : tensor<3xf32>
// CHECK-NEXT:    %[[S:.*]] = red.constant dense<5.000000e-01> : tensor<2x3xf32>
// CHECK-NEXT:    %[[B:.*]] = red.constant dense<[true, false, true]> : tensor<3xi1>
// CHECK-NEXT:    %[[I:.*]] = red.constant dense<[[7, 8], [9, 10]]> : tensor<2x2xi64>
// CHECK-NEXT:    %[[A:.*]] = arith.constant dense<2.000000e+00> : tensor<4xf32>
// CHECK-NEXT:    func.return %[[D]], %[[S]], %[[B]], %[[I]], %[[A]] : tensor<3xf32>, tensor<2x3xf32>, tensor<3xi1>, tensor<2x2xi64>, tensor<4xf32>
// GENERIC-LABEL: "func.func"() <{sym_name = "constant_forms"
// GENERIC:         "red.constant"() <{value = dense<[1.000000e+00, 2.500000e+00, -3.000000e+00]> : tensor<3xf32>}> : () -> tensor<3xf32>
// GENERIC:         "red.constant"() <{value = dense<5.000000e-01> : tensor<2x3xf32>}> : () -> tensor<2x3xf32>
func.func @constant_forms() -> (tensor<3xf32>, tensor<2x3xf32>, tensor<3xi1>, tensor<2x2xi64>, tensor<4xf32>) {
  %d = red.constant dense<[1.0, 2.5, -3.0]> : tensor<3xf32>
  %s = red.constant dense<0.5> : tensor<2x3xf32>
  %b = red.constant dense<[true, false, true]> : tensor<3xi1>
  %i = red.constant dense<[[7, 8], [9, 10]]> : tensor<2x2xi64>
  %a = arith.constant dense<2.0> : tensor<4xf32>
  func.return %d, %s, %b, %i, %a : tensor<3xf32>, tensor<2x3xf32>, tensor<3xi1>, tensor<2x2xi64>, tensor<4xf32>
}

// A dense resource blob (big weights) keeps its handle and its data.
// CHECK-LABEL: func.func @constant_resource()
// CHECK-NEXT:    %[[W:.*]] = red.constant dense_resource<weights> : tensor<2xf32>
// CHECK-NEXT:    func.return %[[W]] : tensor<2xf32>
func.func @constant_resource() -> tensor<2xf32> {
  %w = red.constant dense_resource<weights> : tensor<2xf32>
  func.return %w : tensor<2xf32>
}

// CHECK-LABEL: func.func @iota()
// CHECK-NEXT:    %[[R:.*]] = red.iota dim = 1 : tensor<4x8xi64>
// CHECK-NEXT:    %[[C:.*]] = red.iota dim = 0 : tensor<5xi32>
// CHECK-NEXT:    func.return %[[R]], %[[C]] : tensor<4x8xi64>, tensor<5xi32>
// GENERIC-LABEL: "func.func"() <{sym_name = "iota"
// GENERIC:         "red.iota"() <{dimension = 1 : i64}> : () -> tensor<4x8xi64>
func.func @iota() -> (tensor<4x8xi64>, tensor<5xi32>) {
  %r = red.iota dim = 1 : tensor<4x8xi64>
  %c = red.iota dim = 0 : tensor<5xi32>
  func.return %r, %c : tensor<4x8xi64>, tensor<5xi32>
}

// Every binary elementwise op, with numpy broadcasting (rank and size-1 dims).
// CHECK-LABEL: func.func @binary_f32
// CHECK-SAME:    (%[[X:.*]]: tensor<2x3xf32>, %[[Y:.*]]: tensor<3xf32>, %[[Z:.*]]: tensor<f32>, %[[C:.*]]: tensor<2x1xf32>)
// CHECK-NEXT:    %[[ADD:.*]] = red.add %[[X]], %[[Y]] : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>
// CHECK-NEXT:    %[[SUB:.*]] = red.sub %[[ADD]], %[[Z]] : tensor<2x3xf32>, tensor<f32> -> tensor<2x3xf32>
// CHECK-NEXT:    %[[MUL:.*]] = red.mul %[[C]], %[[Y]] : tensor<2x1xf32>, tensor<3xf32> -> tensor<2x3xf32>
// CHECK-NEXT:    %[[DIV:.*]] = red.div %[[SUB]], %[[MUL]] : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
// CHECK-NEXT:    %[[MAX:.*]] = red.max %[[DIV]], %[[C]] : tensor<2x3xf32>, tensor<2x1xf32> -> tensor<2x3xf32>
// CHECK-NEXT:    %[[MIN:.*]] = red.min %[[Z]], %[[MAX]] : tensor<f32>, tensor<2x3xf32> -> tensor<2x3xf32>
// CHECK-NEXT:    %[[POW:.*]] = red.pow %[[MIN]], %[[Z]] : tensor<2x3xf32>, tensor<f32> -> tensor<2x3xf32>
// CHECK-NEXT:    func.return %[[POW]] : tensor<2x3xf32>
// GENERIC-LABEL: "func.func"() <{sym_name = "binary_f32"
// GENERIC:         "red.add"(%{{.*}}, %{{.*}}) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
func.func @binary_f32(%x: tensor<2x3xf32>, %y: tensor<3xf32>, %z: tensor<f32>, %c: tensor<2x1xf32>) -> tensor<2x3xf32> {
  %add = red.add %x, %y : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>
  %sub = red.sub %add, %z : tensor<2x3xf32>, tensor<f32> -> tensor<2x3xf32>
  %mul = red.mul %c, %y : tensor<2x1xf32>, tensor<3xf32> -> tensor<2x3xf32>
  %div = red.div %sub, %mul : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
  %max = red.max %div, %c : tensor<2x3xf32>, tensor<2x1xf32> -> tensor<2x3xf32>
  %min = red.min %z, %max : tensor<f32>, tensor<2x3xf32> -> tensor<2x3xf32>
  %pow = red.pow %min, %z : tensor<2x3xf32>, tensor<f32> -> tensor<2x3xf32>
  func.return %pow : tensor<2x3xf32>
}

// Integer arithmetic, a discardable attribute and `?` dims survive the round trip.
// CHECK-LABEL: func.func @binary_i64_dynamic
// CHECK-SAME:    (%[[A:.*]]: tensor<?x4xi64>, %[[B:.*]]: tensor<4xi64>)
// CHECK-NEXT:    %[[S:.*]] = red.add %[[A]], %[[B]] {tag = "keep"} : tensor<?x4xi64>, tensor<4xi64> -> tensor<?x4xi64>
// CHECK-NEXT:    %[[Q:.*]] = red.div %[[S]], %[[B]] : tensor<?x4xi64>, tensor<4xi64> -> tensor<?x4xi64>
// CHECK-NEXT:    func.return %[[Q]] : tensor<?x4xi64>
func.func @binary_i64_dynamic(%a: tensor<?x4xi64>, %b: tensor<4xi64>) -> tensor<?x4xi64> {
  %s = red.add %a, %b {tag = "keep"} : tensor<?x4xi64>, tensor<4xi64> -> tensor<?x4xi64>
  %q = red.div %s, %b : tensor<?x4xi64>, tensor<4xi64> -> tensor<?x4xi64>
  func.return %q : tensor<?x4xi64>
}

// Comparisons produce i1 masks.
// CHECK-LABEL: func.func @compare
// CHECK-SAME:    (%[[A:.*]]: tensor<4x1xi64>, %[[B:.*]]: tensor<4xi64>, %[[F:.*]]: tensor<4xf32>, %[[G:.*]]: tensor<4xf32>)
// CHECK-NEXT:    %[[EQ:.*]] = red.eq %[[B]], %[[B]] : tensor<4xi64>, tensor<4xi64> -> tensor<4xi1>
// CHECK-NEXT:    %[[NE:.*]] = red.ne %[[A]], %[[B]] : tensor<4x1xi64>, tensor<4xi64> -> tensor<4x4xi1>
// CHECK-NEXT:    %[[LT:.*]] = red.lt %[[A]], %[[B]] : tensor<4x1xi64>, tensor<4xi64> -> tensor<4x4xi1>
// CHECK-NEXT:    %[[LE:.*]] = red.le %[[B]], %[[A]] : tensor<4xi64>, tensor<4x1xi64> -> tensor<4x4xi1>
// CHECK-NEXT:    %[[GT:.*]] = red.gt %[[F]], %[[G]] : tensor<4xf32>, tensor<4xf32> -> tensor<4xi1>
// CHECK-NEXT:    %[[GE:.*]] = red.ge %[[G]], %[[F]] : tensor<4xf32>, tensor<4xf32> -> tensor<4xi1>
// CHECK-NEXT:    func.return %[[EQ]], %[[NE]], %[[LT]], %[[LE]], %[[GT]], %[[GE]] : tensor<4xi1>, tensor<4x4xi1>, tensor<4x4xi1>, tensor<4x4xi1>, tensor<4xi1>, tensor<4xi1>
func.func @compare(%a: tensor<4x1xi64>, %b: tensor<4xi64>, %f: tensor<4xf32>, %g: tensor<4xf32>) -> (tensor<4xi1>, tensor<4x4xi1>, tensor<4x4xi1>, tensor<4x4xi1>, tensor<4xi1>, tensor<4xi1>) {
  %eq = red.eq %b, %b : tensor<4xi64>, tensor<4xi64> -> tensor<4xi1>
  %ne = red.ne %a, %b : tensor<4x1xi64>, tensor<4xi64> -> tensor<4x4xi1>
  %lt = red.lt %a, %b : tensor<4x1xi64>, tensor<4xi64> -> tensor<4x4xi1>
  %le = red.le %b, %a : tensor<4xi64>, tensor<4x1xi64> -> tensor<4x4xi1>
  %gt = red.gt %f, %g : tensor<4xf32>, tensor<4xf32> -> tensor<4xi1>
  %ge = red.ge %g, %f : tensor<4xf32>, tensor<4xf32> -> tensor<4xi1>
  func.return %eq, %ne, %lt, %le, %gt, %ge : tensor<4xi1>, tensor<4x4xi1>, tensor<4x4xi1>, tensor<4x4xi1>, tensor<4xi1>, tensor<4xi1>
}

// CHECK-LABEL: func.func @select
// CHECK-SAME:    (%[[M:.*]]: tensor<4x4xi1>, %[[T:.*]]: tensor<4x4xf32>, %[[F:.*]]: tensor<f32>)
// CHECK-NEXT:    %[[R:.*]] = red.select %[[M]], %[[T]], %[[F]] : tensor<4x4xi1>, tensor<4x4xf32>, tensor<f32> -> tensor<4x4xf32>
// CHECK-NEXT:    func.return %[[R]] : tensor<4x4xf32>
// GENERIC-LABEL: "func.func"() <{sym_name = "select"
// GENERIC:         "red.select"(%{{.*}}, %{{.*}}, %{{.*}}) : (tensor<4x4xi1>, tensor<4x4xf32>, tensor<f32>) -> tensor<4x4xf32>
func.func @select(%m: tensor<4x4xi1>, %t: tensor<4x4xf32>, %f: tensor<f32>) -> tensor<4x4xf32> {
  %r = red.select %m, %t, %f : tensor<4x4xi1>, tensor<4x4xf32>, tensor<f32> -> tensor<4x4xf32>
  func.return %r : tensor<4x4xf32>
}

// CHECK-LABEL: func.func @cast
// CHECK-SAME:    (%[[X:.*]]: tensor<4xi64>)
// CHECK-NEXT:    %[[F:.*]] = red.cast %[[X]] : tensor<4xi64> -> tensor<4xf32>
// CHECK-NEXT:    %[[H:.*]] = red.cast %[[F]] : tensor<4xf32> -> tensor<4xf16>
// CHECK-NEXT:    %[[B:.*]] = red.cast %[[H]] : tensor<4xf16> -> tensor<4xi1>
// CHECK-NEXT:    func.return %[[B]] : tensor<4xi1>
func.func @cast(%x: tensor<4xi64>) -> tensor<4xi1> {
  %f = red.cast %x : tensor<4xi64> -> tensor<4xf32>
  %h = red.cast %f : tensor<4xf32> -> tensor<4xf16>
  %b = red.cast %h : tensor<4xf16> -> tensor<4xi1>
  func.return %b : tensor<4xi1>
}

// Every unary op; neg, abs and relu also take integers.
// CHECK-LABEL: func.func @unary
// CHECK-SAME:    (%[[X:.*]]: tensor<2x4xf32>, %[[I:.*]]: tensor<3xi32>)
// CHECK-NEXT:    %[[NEG:.*]] = red.neg %[[X]] : tensor<2x4xf32>
// CHECK-NEXT:    %[[EXP:.*]] = red.exp %[[NEG]] : tensor<2x4xf32>
// CHECK-NEXT:    %[[LOG:.*]] = red.log %[[EXP]] : tensor<2x4xf32>
// CHECK-NEXT:    %[[SQRT:.*]] = red.sqrt %[[LOG]] : tensor<2x4xf32>
// CHECK-NEXT:    %[[RSQRT:.*]] = red.rsqrt %[[SQRT]] : tensor<2x4xf32>
// CHECK-NEXT:    %[[TANH:.*]] = red.tanh %[[RSQRT]] : tensor<2x4xf32>
// CHECK-NEXT:    %[[SIGMOID:.*]] = red.sigmoid %[[TANH]] : tensor<2x4xf32>
// CHECK-NEXT:    %[[RELU:.*]] = red.relu %[[SIGMOID]] : tensor<2x4xf32>
// CHECK-NEXT:    %[[GELU:.*]] = red.gelu %[[RELU]] : tensor<2x4xf32>
// CHECK-NEXT:    %[[SILU:.*]] = red.silu %[[GELU]] : tensor<2x4xf32>
// CHECK-NEXT:    %[[ERF:.*]] = red.erf %[[SILU]] : tensor<2x4xf32>
// CHECK-NEXT:    %[[ABS:.*]] = red.abs %[[ERF]] : tensor<2x4xf32>
// CHECK-NEXT:    %[[SIN:.*]] = red.sin %[[ABS]] : tensor<2x4xf32>
// CHECK-NEXT:    %[[COS:.*]] = red.cos %[[SIN]] : tensor<2x4xf32>
// CHECK-NEXT:    %[[INEG:.*]] = red.neg %[[I]] : tensor<3xi32>
// CHECK-NEXT:    %[[IABS:.*]] = red.abs %[[INEG]] : tensor<3xi32>
// CHECK-NEXT:    %[[IRELU:.*]] = red.relu %[[IABS]] : tensor<3xi32>
// CHECK-NEXT:    func.return %[[COS]], %[[IRELU]] : tensor<2x4xf32>, tensor<3xi32>
func.func @unary(%x: tensor<2x4xf32>, %i: tensor<3xi32>) -> (tensor<2x4xf32>, tensor<3xi32>) {
  %neg = red.neg %x : tensor<2x4xf32>
  %exp = red.exp %neg : tensor<2x4xf32>
  %log = red.log %exp : tensor<2x4xf32>
  %sqrt = red.sqrt %log : tensor<2x4xf32>
  %rsqrt = red.rsqrt %sqrt : tensor<2x4xf32>
  %tanh = red.tanh %rsqrt : tensor<2x4xf32>
  %sigmoid = red.sigmoid %tanh : tensor<2x4xf32>
  %relu = red.relu %sigmoid : tensor<2x4xf32>
  %gelu = red.gelu %relu : tensor<2x4xf32>
  %silu = red.silu %gelu : tensor<2x4xf32>
  %erf = red.erf %silu : tensor<2x4xf32>
  %abs = red.abs %erf : tensor<2x4xf32>
  %sin = red.sin %abs : tensor<2x4xf32>
  %cos = red.cos %sin : tensor<2x4xf32>
  %ineg = red.neg %i : tensor<3xi32>
  %iabs = red.abs %ineg : tensor<3xi32>
  %irelu = red.relu %iabs : tensor<3xi32>
  func.return %cos, %irelu : tensor<2x4xf32>, tensor<3xi32>
}

// The exact gelu prints without `approximate`; the tanh one keeps it.
// CHECK-LABEL: func.func @gelu_approximate
// CHECK-SAME:    (%[[X:.*]]: tensor<4xf64>)
// CHECK-NEXT:    %[[T:.*]] = red.gelu %[[X]] approximate = "tanh" : tensor<4xf64>
// CHECK-NEXT:    %[[E:.*]] = red.gelu %[[T]] : tensor<4xf64>
// CHECK-NEXT:    func.return %[[E]] : tensor<4xf64>
// GENERIC-LABEL: "func.func"() <{sym_name = "gelu_approximate"
// GENERIC:         "red.gelu"(%{{.*}}) <{approximate = "tanh"}> : (tensor<4xf64>) -> tensor<4xf64>
// GENERIC-NEXT:    "red.gelu"(%{{.*}}) : (tensor<4xf64>) -> tensor<4xf64>
func.func @gelu_approximate(%x: tensor<4xf64>) -> tensor<4xf64> {
  %t = red.gelu %x approximate = "tanh" : tensor<4xf64>
  %e = red.gelu %t : tensor<4xf64>
  func.return %e : tensor<4xf64>
}

// CHECK-LABEL: func.func @matmul
// CHECK-SAME:    (%[[A:.*]]: tensor<2x3xf32>, %[[B:.*]]: tensor<3x4xf32>)
// CHECK-NEXT:    %[[C:.*]] = red.matmul %[[A]], %[[B]] : tensor<2x3xf32>, tensor<3x4xf32> -> tensor<2x4xf32>
// CHECK-NEXT:    func.return %[[C]] : tensor<2x4xf32>
func.func @matmul(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>) -> tensor<2x4xf32> {
  %c = red.matmul %a, %b : tensor<2x3xf32>, tensor<3x4xf32> -> tensor<2x4xf32>
  func.return %c : tensor<2x4xf32>
}

// Batch dims broadcast like numpy.matmul.
// CHECK-LABEL: func.func @matmul_batched
// CHECK-SAME:    (%[[A:.*]]: tensor<5x1x2x3xf32>, %[[B:.*]]: tensor<6x3x4xf32>, %[[W:.*]]: tensor<3x4xf32>)
// CHECK-NEXT:    %[[C:.*]] = red.matmul %[[A]], %[[B]] : tensor<5x1x2x3xf32>, tensor<6x3x4xf32> -> tensor<5x6x2x4xf32>
// CHECK-NEXT:    %[[D:.*]] = red.matmul %[[A]], %[[W]] : tensor<5x1x2x3xf32>, tensor<3x4xf32> -> tensor<5x1x2x4xf32>
// CHECK-NEXT:    func.return %[[C]], %[[D]] : tensor<5x6x2x4xf32>, tensor<5x1x2x4xf32>
func.func @matmul_batched(%a: tensor<5x1x2x3xf32>, %b: tensor<6x3x4xf32>, %w: tensor<3x4xf32>) -> (tensor<5x6x2x4xf32>, tensor<5x1x2x4xf32>) {
  %c = red.matmul %a, %b : tensor<5x1x2x3xf32>, tensor<6x3x4xf32> -> tensor<5x6x2x4xf32>
  %d = red.matmul %a, %w : tensor<5x1x2x3xf32>, tensor<3x4xf32> -> tensor<5x1x2x4xf32>
  func.return %c, %d : tensor<5x6x2x4xf32>, tensor<5x1x2x4xf32>
}

// CHECK-LABEL: func.func @transpose
// CHECK-SAME:    (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK-NEXT:    %[[T:.*]] = red.transpose %[[X]] [2, 0, 1] : tensor<2x3x4xf32> -> tensor<4x2x3xf32>
// CHECK-NEXT:    func.return %[[T]] : tensor<4x2x3xf32>
// GENERIC-LABEL: "func.func"() <{sym_name = "transpose"
// GENERIC:         "red.transpose"(%{{.*}}) <{permutation = array<i64: 2, 0, 1>}> : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
func.func @transpose(%x: tensor<2x3x4xf32>) -> tensor<4x2x3xf32> {
  %t = red.transpose %x [2, 0, 1] : tensor<2x3x4xf32> -> tensor<4x2x3xf32>
  func.return %t : tensor<4x2x3xf32>
}

// CHECK-LABEL: func.func @reshape
// CHECK-SAME:    (%[[X:.*]]: tensor<2x6xf32>)
// CHECK-NEXT:    %[[R:.*]] = red.reshape %[[X]] : tensor<2x6xf32> -> tensor<3x4xf32>
// CHECK-NEXT:    %[[F:.*]] = red.reshape %[[R]] : tensor<3x4xf32> -> tensor<12xf32>
// CHECK-NEXT:    func.return %[[F]] : tensor<12xf32>
func.func @reshape(%x: tensor<2x6xf32>) -> tensor<12xf32> {
  %r = red.reshape %x : tensor<2x6xf32> -> tensor<3x4xf32>
  %f = red.reshape %r : tensor<3x4xf32> -> tensor<12xf32>
  func.return %f : tensor<12xf32>
}

// CHECK-LABEL: func.func @broadcast_to
// CHECK-SAME:    (%[[X:.*]]: tensor<1x3xf32>)
// CHECK-NEXT:    %[[B:.*]] = red.broadcast_to %[[X]] : tensor<1x3xf32> -> tensor<5x4x3xf32>
// CHECK-NEXT:    func.return %[[B]] : tensor<5x4x3xf32>
func.func @broadcast_to(%x: tensor<1x3xf32>) -> tensor<5x4x3xf32> {
  %b = red.broadcast_to %x : tensor<1x3xf32> -> tensor<5x4x3xf32>
  func.return %b : tensor<5x4x3xf32>
}

// CHECK-LABEL: func.func @slice
// CHECK-SAME:    (%[[X:.*]]: tensor<4x8xf32>)
// CHECK-NEXT:    %[[S:.*]] = red.slice %[[X]] [1, 0] [2, 8] [1, 2] : tensor<4x8xf32> -> tensor<1x4xf32>
// CHECK-NEXT:    %[[T:.*]] = red.slice %[[X]] [0, 1] [4, 8] [3, 3] : tensor<4x8xf32> -> tensor<2x3xf32>
// CHECK-NEXT:    func.return %[[S]], %[[T]] : tensor<1x4xf32>, tensor<2x3xf32>
// GENERIC-LABEL: "func.func"() <{sym_name = "slice"
// GENERIC:         "red.slice"(%{{.*}}) <{start = array<i64: 1, 0>, limit = array<i64: 2, 8>, stride = array<i64: 1, 2>}> : (tensor<4x8xf32>) -> tensor<1x4xf32>
func.func @slice(%x: tensor<4x8xf32>) -> (tensor<1x4xf32>, tensor<2x3xf32>) {
  %s = red.slice %x [1, 0] [2, 8] [1, 2] : tensor<4x8xf32> -> tensor<1x4xf32>
  %t = red.slice %x [0, 1] [4, 8] [3, 3] : tensor<4x8xf32> -> tensor<2x3xf32>
  func.return %s, %t : tensor<1x4xf32>, tensor<2x3xf32>
}

// CHECK-LABEL: func.func @concat
// CHECK-SAME:    (%[[A:.*]]: tensor<2x3xf32>, %[[B:.*]]: tensor<1x3xf32>, %[[C:.*]]: tensor<4x3xf32>)
// CHECK-NEXT:    %[[R:.*]] = red.concat %[[A]], %[[B]], %[[C]], %[[A]] axis = 0 : tensor<2x3xf32>, tensor<1x3xf32>, tensor<4x3xf32>, tensor<2x3xf32> -> tensor<9x3xf32>
// CHECK-NEXT:    %[[S:.*]] = red.concat %[[A]] axis = 1 : tensor<2x3xf32> -> tensor<2x3xf32>
// CHECK-NEXT:    func.return %[[R]], %[[S]] : tensor<9x3xf32>, tensor<2x3xf32>
// GENERIC-LABEL: "func.func"() <{sym_name = "concat"
// GENERIC:         "red.concat"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) <{axis = 0 : i64}> : (tensor<2x3xf32>, tensor<1x3xf32>, tensor<4x3xf32>, tensor<2x3xf32>) -> tensor<9x3xf32>
func.func @concat(%a: tensor<2x3xf32>, %b: tensor<1x3xf32>, %c: tensor<4x3xf32>) -> (tensor<9x3xf32>, tensor<2x3xf32>) {
  %r = red.concat %a, %b, %c, %a axis = 0 : tensor<2x3xf32>, tensor<1x3xf32>, tensor<4x3xf32>, tensor<2x3xf32> -> tensor<9x3xf32>
  %s = red.concat %a axis = 1 : tensor<2x3xf32> -> tensor<2x3xf32>
  func.return %r, %s : tensor<9x3xf32>, tensor<2x3xf32>
}

// CHECK-LABEL: func.func @gather
// CHECK-SAME:    (%[[WTE:.*]]: tensor<512x64xf32>, %[[IDS:.*]]: tensor<32xi64>, %[[J:.*]]: tensor<2x5xi32>)
// CHECK-NEXT:    %[[E:.*]] = red.gather %[[WTE]], %[[IDS]] axis = 0 : tensor<512x64xf32>, tensor<32xi64> -> tensor<32x64xf32>
// CHECK-NEXT:    %[[F:.*]] = red.gather %[[E]], %[[J]] axis = 1 : tensor<32x64xf32>, tensor<2x5xi32> -> tensor<32x2x5xf32>
// CHECK-NEXT:    func.return %[[F]] : tensor<32x2x5xf32>
func.func @gather(%wte: tensor<512x64xf32>, %ids: tensor<32xi64>, %j: tensor<2x5xi32>) -> tensor<32x2x5xf32> {
  %e = red.gather %wte, %ids axis = 0 : tensor<512x64xf32>, tensor<32xi64> -> tensor<32x64xf32>
  %f = red.gather %e, %j axis = 1 : tensor<32x64xf32>, tensor<2x5xi32> -> tensor<32x2x5xf32>
  func.return %f : tensor<32x2x5xf32>
}

// argmax along an axis, with and without keepdims.
// CHECK-LABEL: func.func @argmax
// CHECK-SAME:    (%[[X:.*]]: tensor<4x8xf32>)
// CHECK-NEXT:    %[[A:.*]] = red.argmax %[[X]] axis = 1 : tensor<4x8xf32> -> tensor<4xi64>
// CHECK-NEXT:    %[[K:.*]] = red.argmax %[[X]] axis = 0 keepdims : tensor<4x8xf32> -> tensor<1x8xi64>
// CHECK-NEXT:    func.return %[[A]], %[[K]]
func.func @argmax(%x: tensor<4x8xf32>) -> (tensor<4xi64>, tensor<1x8xi64>) {
  %a = red.argmax %x axis = 1 : tensor<4x8xf32> -> tensor<4xi64>
  %k = red.argmax %x axis = 0 keepdims : tensor<4x8xf32> -> tensor<1x8xi64>
  func.return %a, %k : tensor<4xi64>, tensor<1x8xi64>
}

// Slices at run-time offsets: scalars (i64, index) or 0-d tensors.
// CHECK-LABEL: func.func @dynamic_slices
// CHECK-SAME:    (%[[X:.*]]: tensor<8x64xf32>, %[[I:.*]]: i64, %[[T:.*]]: tensor<i64>)
// CHECK-NEXT:    %[[Z:.*]] = arith.constant 0 : i64
// CHECK-NEXT:    %[[R:.*]] = red.dynamic_slice %[[X]][%[[I]], %[[Z]]] sizes = [1, 64] : (tensor<8x64xf32>, i64, i64) -> tensor<1x64xf32>
// CHECK-NEXT:    %[[U:.*]] = red.dynamic_update_slice %[[X]], %[[R]][%[[T]], %[[Z]]] : (tensor<8x64xf32>, tensor<1x64xf32>, tensor<i64>, i64) -> tensor<8x64xf32>
// CHECK-NEXT:    func.return %[[R]], %[[U]]
// GENERIC:       "red.dynamic_slice"(%{{.*}}, %{{.*}}, %{{.*}}) <{sizes = array<i64: 1, 64>}> : (tensor<8x64xf32>, i64, i64) -> tensor<1x64xf32>
func.func @dynamic_slices(%x: tensor<8x64xf32>, %i: i64, %t: tensor<i64>) -> (tensor<1x64xf32>, tensor<8x64xf32>) {
  %c0 = arith.constant 0 : i64
  %r = red.dynamic_slice %x [%i, %c0] sizes = [1, 64] : (tensor<8x64xf32>, i64, i64) -> tensor<1x64xf32>
  %u = red.dynamic_update_slice %x, %r [%t, %c0] : (tensor<8x64xf32>, tensor<1x64xf32>, tensor<i64>, i64) -> tensor<8x64xf32>
  func.return %r, %u : tensor<1x64xf32>, tensor<8x64xf32>
}

// Reductions with and without keepdims, over one and several axes.
// CHECK-LABEL: func.func @reductions
// CHECK-SAME:    (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK-NEXT:    %[[S:.*]] = red.reduce_sum %[[X]] axes = [1] : tensor<2x3x4xf32> -> tensor<2x4xf32>
// CHECK-NEXT:    %[[SK:.*]] = red.reduce_sum %[[X]] axes = [0, 2] keepdims : tensor<2x3x4xf32> -> tensor<1x3x1xf32>
// CHECK-NEXT:    %[[M:.*]] = red.reduce_mean %[[X]] axes = [2] : tensor<2x3x4xf32> -> tensor<2x3xf32>
// CHECK-NEXT:    %[[MK:.*]] = red.reduce_mean %[[X]] axes = [2] keepdims : tensor<2x3x4xf32> -> tensor<2x3x1xf32>
// CHECK-NEXT:    %[[X0:.*]] = red.reduce_max %[[X]] axes = [0, 1, 2] : tensor<2x3x4xf32> -> tensor<f32>
// CHECK-NEXT:    %[[XK:.*]] = red.reduce_max %[[X]] axes = [0] keepdims : tensor<2x3x4xf32> -> tensor<1x3x4xf32>
// CHECK-NEXT:    func.return %[[S]], %[[SK]], %[[M]], %[[MK]], %[[X0]], %[[XK]] : tensor<2x4xf32>, tensor<1x3x1xf32>, tensor<2x3xf32>, tensor<2x3x1xf32>, tensor<f32>, tensor<1x3x4xf32>
// GENERIC-LABEL: "func.func"() <{sym_name = "reductions"
// GENERIC:         "red.reduce_sum"(%{{.*}}) <{axes = array<i64: 1>}> : (tensor<2x3x4xf32>) -> tensor<2x4xf32>
// GENERIC-NEXT:    "red.reduce_sum"(%{{.*}}) <{axes = array<i64: 0, 2>, keepdims}> : (tensor<2x3x4xf32>) -> tensor<1x3x1xf32>
func.func @reductions(%x: tensor<2x3x4xf32>) -> (tensor<2x4xf32>, tensor<1x3x1xf32>, tensor<2x3xf32>, tensor<2x3x1xf32>, tensor<f32>, tensor<1x3x4xf32>) {
  %s = red.reduce_sum %x axes = [1] : tensor<2x3x4xf32> -> tensor<2x4xf32>
  %sk = red.reduce_sum %x axes = [0, 2] keepdims : tensor<2x3x4xf32> -> tensor<1x3x1xf32>
  %m = red.reduce_mean %x axes = [2] : tensor<2x3x4xf32> -> tensor<2x3xf32>
  %mk = red.reduce_mean %x axes = [2] keepdims : tensor<2x3x4xf32> -> tensor<2x3x1xf32>
  %x0 = red.reduce_max %x axes = [0, 1, 2] : tensor<2x3x4xf32> -> tensor<f32>
  %xk = red.reduce_max %x axes = [0] keepdims : tensor<2x3x4xf32> -> tensor<1x3x4xf32>
  func.return %s, %sk, %m, %mk, %x0, %xk : tensor<2x4xf32>, tensor<1x3x1xf32>, tensor<2x3xf32>, tensor<2x3x1xf32>, tensor<f32>, tensor<1x3x4xf32>
}

// Softmax over one axis; the norms over the trailing axes from `axis`, with their eps.
// CHECK-LABEL: func.func @normalizations
// CHECK-SAME:    (%[[X:.*]]: tensor<4x8xf32>)
// CHECK-NEXT:    %[[P:.*]] = red.softmax %[[X]] axis = 1 : tensor<4x8xf32>
// CHECK-NEXT:    %[[L:.*]] = red.layer_norm %[[P]] axis = 1 eps = 1.000000e-05 : tensor<4x8xf32>
// CHECK-NEXT:    %[[R:.*]] = red.rms_norm %[[L]] axis = 0 eps = 2.500000e-06 : tensor<4x8xf32>
// CHECK-NEXT:    func.return %[[R]] : tensor<4x8xf32>
// GENERIC-LABEL: "func.func"() <{sym_name = "normalizations"
// GENERIC:         "red.softmax"(%{{.*}}) <{axis = 1 : i64}> : (tensor<4x8xf32>) -> tensor<4x8xf32>
// GENERIC-NEXT:    "red.layer_norm"(%{{.*}}) <{axis = 1 : i64, eps = 1.000000e-05 : f64}> : (tensor<4x8xf32>) -> tensor<4x8xf32>
func.func @normalizations(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %p = red.softmax %x axis = 1 : tensor<4x8xf32>
  %l = red.layer_norm %p axis = 1 eps = 1.0e-05 : tensor<4x8xf32>
  %r = red.rms_norm %l axis = 0 eps = 2.5e-06 : tensor<4x8xf32>
  func.return %r : tensor<4x8xf32>
}

// A memo keyed on an invariant argument; its body sees only its block arguments.
// CHECK-LABEL: func.func @memo
// CHECK-SAME:    (%[[IDS:.*]]: tensor<4xi64>, %[[WTE:.*]]: tensor<8x4xf32> {red.invariant}) -> tensor<4x8xf32>
// CHECK-NEXT:    %[[WT:.*]] = red.memo(%[[WTE]]) : (tensor<8x4xf32>) -> tensor<4x8xf32> {
// CHECK-NEXT:    ^{{.*}}(%[[W:.*]]: tensor<8x4xf32>):
// CHECK-NEXT:      %[[T:.*]] = red.transpose %[[W]] [1, 0] : tensor<8x4xf32> -> tensor<4x8xf32>
// CHECK-NEXT:      red.yield %[[T]] : tensor<4x8xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return %[[WT]] : tensor<4x8xf32>
// GENERIC-LABEL: "func.func"() <{sym_name = "memo"
// GENERIC-SAME:    arg_attrs = [{}, {red.invariant}]
// GENERIC:         "red.memo"(%{{.*}}) ({
// GENERIC:           "red.yield"(%{{.*}}) : (tensor<4x8xf32>) -> ()
// GENERIC-NEXT:    }) : (tensor<8x4xf32>) -> tensor<4x8xf32>
func.func @memo(%ids: tensor<4xi64>, %wte: tensor<8x4xf32> {red.invariant}) -> tensor<4x8xf32> {
  %wt = red.memo(%wte) : (tensor<8x4xf32>) -> tensor<4x8xf32> {
  ^bb0(%w: tensor<8x4xf32>):
    %t = red.transpose %w [1, 0] : tensor<8x4xf32> -> tensor<4x8xf32>
    red.yield %t : tensor<4x8xf32>
  }
  func.return %wt : tensor<4x8xf32>
}

// A memo with two keys and two results, and a memo with an attribute dictionary.
// CHECK-LABEL: func.func @memo_multi
// CHECK-SAME:    (%[[A:.*]]: tensor<2x2xf32> {red.invariant}, %[[B:.*]]: tensor<2xf32> {red.invariant})
// CHECK-NEXT:    %[[R0:.*]], %[[R1:.*]] = red.memo(%[[A]], %[[B]]) : (tensor<2x2xf32>, tensor<2xf32>) -> (tensor<2x2xf32>, tensor<2xf32>) attributes {kind = "weights"} {
// CHECK-NEXT:    ^{{.*}}(%[[X:.*]]: tensor<2x2xf32>, %[[Y:.*]]: tensor<2xf32>):
// CHECK-NEXT:      %[[S:.*]] = red.add %[[X]], %[[Y]] : tensor<2x2xf32>, tensor<2xf32> -> tensor<2x2xf32>
// CHECK-NEXT:      %[[N:.*]] = red.neg %[[Y]] : tensor<2xf32>
// CHECK-NEXT:      red.yield %[[S]], %[[N]] : tensor<2x2xf32>, tensor<2xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return %[[R0]], %[[R1]] : tensor<2x2xf32>, tensor<2xf32>
func.func @memo_multi(%a: tensor<2x2xf32> {red.invariant}, %b: tensor<2xf32> {red.invariant}) -> (tensor<2x2xf32>, tensor<2xf32>) {
  %r:2 = red.memo(%a, %b) : (tensor<2x2xf32>, tensor<2xf32>) -> (tensor<2x2xf32>, tensor<2xf32>) attributes {kind = "weights"} {
  ^bb0(%x: tensor<2x2xf32>, %y: tensor<2xf32>):
    %s = red.add %x, %y : tensor<2x2xf32>, tensor<2xf32> -> tensor<2x2xf32>
    %n = red.neg %y : tensor<2xf32>
    red.yield %s, %n : tensor<2x2xf32>, tensor<2xf32>
  }
  func.return %r#0, %r#1 : tensor<2x2xf32>, tensor<2xf32>
}

{-#
  dialect_resources: {
    builtin: {
      weights: "0x040000000000803F00000040"
    }
  }
#-}

// -----

// Constants xDSL's printer would mangle (inf, NaN, +0.0 next to -0.0) print as raw bytes and
// read back bit for bit.
// CHECK-LABEL: func.func @constant_special_floats
// CHECK:         red.constant dense<"0x0000807F000080FF0000C07F"> : tensor<3xf32>
// CHECK:         red.constant dense<"0x0000000000000080"> : tensor<2xf32>
// CHECK:         red.constant dense<1.000000e+00> : tensor<2xf32>
func.func @constant_special_floats() -> (tensor<3xf32>, tensor<2xf32>, tensor<2xf32>) {
  %a = red.constant dense<"0x0000807F000080FF0000C07F"> : tensor<3xf32>
  %b = red.constant dense<"0x0000000000000080"> : tensor<2xf32>
  %c = red.constant dense<[1.0, 1.0]> : tensor<2xf32>
  func.return %a, %b, %c : tensor<3xf32>, tensor<2xf32>, tensor<2xf32>
}

// Symbolic dims the verifier accepts: the same name on both contracted dims, and unnamed `?`
// dims (they may be equal at run time; the call checks).
// CHECK-LABEL: func.func @contraction_of_one_symbol
// CHECK-SAME:    %{{.*}}: tensor<?x?xf32> {red.dims = ["seq", "hidden"]}, %{{.*}}: tensor<?x4xf32> {red.dims = ["hidden", ""]}
// CHECK:         red.matmul %{{.*}}, %{{.*}} : tensor<?x?xf32>, tensor<?x4xf32> -> tensor<?x4xf32>
// CHECK-LABEL: func.func @contraction_of_unnamed_dims
// CHECK:         red.matmul %{{.*}}, %{{.*}} : tensor<?x?xf32>, tensor<?x4xf32> -> tensor<?x4xf32>
func.func @contraction_of_one_symbol(%x: tensor<?x?xf32> {red.dims = ["seq", "hidden"]}, %w: tensor<?x4xf32> {red.dims = ["hidden", ""]}) -> tensor<?x4xf32> {
  %y = red.matmul %x, %w : tensor<?x?xf32>, tensor<?x4xf32> -> tensor<?x4xf32>
  func.return %y : tensor<?x4xf32>
}
func.func @contraction_of_unnamed_dims(%x: tensor<?x?xf32>, %w: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %y = red.matmul %x, %w : tensor<?x?xf32>, tensor<?x4xf32> -> tensor<?x4xf32>
  func.return %y : tensor<?x4xf32>
}
