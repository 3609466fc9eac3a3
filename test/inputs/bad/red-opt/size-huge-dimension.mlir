// A dimension too large for 64 bits; expects 2:25: error: dimension 99999999999999999999999 is too large: dimensions are 64-bit integers
func.func @f(%x: tensor<99999999999999999999999xf32>) -> tensor<99999999999999999999999xf32> {
  func.return %x : tensor<99999999999999999999999xf32>
}
