// An i8 literal that does not fit; expects 3:31: error: Integer value 300 is out of range for type i8
func.func @f() -> tensor<2xi8> {
  %c = red.constant dense<[1, 300]> : tensor<2xi8>
  func.return %c : tensor<2xi8>
}
