// An unknown key in the file metadata; expects 6:19: error: got an unexpected key in file metadata: something_else
func.func @f() {
  func.return
}
{-#
  something_else: {}
#-}
