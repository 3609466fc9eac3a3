// Bytes that are not UTF-8 text; expects 2:17: error: input is not valid UTF-8 text (byte 0xff); is it a binary file?
func.func @f() {ÿþ
  func.return
}
