// --random for a scalar (non-tensor) argument; expects error: argument #0 has non-tensor type 'f32'
func.func @main(%x: f32) -> f32 {
  func.return %x : f32
}
