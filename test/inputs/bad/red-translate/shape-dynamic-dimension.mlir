// A dynamic dimension nothing sizes (an iota of `?` elements: its size is not derived from the arguments' sizes); expects 4:3: error: 'red.iota' op has a dynamic size the lowering cannot compute from the arguments' sizes ('?0')
func.func @f(%x: tensor<?xf32> {red.dims = ["n"]}) -> tensor<?xi64> {
  %y = red.neg %x : tensor<?xf32>
  %i = red.iota dim = 0 : tensor<?xi64>
  func.return %i : tensor<?xi64>
}
