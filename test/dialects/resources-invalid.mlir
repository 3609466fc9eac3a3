// Bad blobs and bad external data are errors located where they are written.
// RUN: red-opt %s --split-input-file --verify-diagnostics

func.func @odd_digits() -> tensor<1xf32> {
  %c = red.constant dense_resource<blob> : tensor<1xf32>
  func.return %c : tensor<1xf32>
}
{-#
  dialect_resources: {
    builtin: {
      // expected-error @+1 {{dense resource blob 'blob' holds a malformed hex string (an odd number of digits, 15)}}
      blob: "0x040000000000803"
    }
  }
#-}

// -----

func.func @bad_digit() -> tensor<1xf32> {
  %c = red.constant dense_resource<blob> : tensor<1xf32>
  func.return %c : tensor<1xf32>
}
{-#
  dialect_resources: {
    builtin: {
      // expected-error @+1 {{dense resource blob 'blob' holds a malformed hex string ('g' at column 24)}}
      blob: "0x04000000g000803F"
    }
  }
#-}

// -----

func.func @too_long() -> tensor<2xf32> {
  // expected-error @+1 {{'red.constant' op dense resource 'blob' holds 12 bytes of data, its type 'tensor<2xf32>' needs 8}}
  %c = red.constant dense_resource<blob> : tensor<2xf32>
  func.return %c : tensor<2xf32>
}
{-#
  dialect_resources: {
    builtin: {
      blob: "0x040000000000803F0000803F0000803F"
    }
  }
#-}

// -----

func.func @twice() -> tensor<1xf32> {
  %c = red.constant dense_resource<blob> : tensor<1xf32>
  func.return %c : tensor<1xf32>
}
{-#
  dialect_resources: {
    builtin: {
      blob: "0x040000000000803F",
      // expected-error @+1 {{resource 'blob' is given twice}}
      blob: "0x0400000000000040"
    }
  }
#-}

// -----

func.func @missing_file() -> tensor<1xf32> {
  %c = red.constant dense_resource<w> : tensor<1xf32>
  func.return %c : tensor<1xf32>
}
{-#
  external_resources: {
    red.external_data: {
      // expected-error @+1 {{cannot read the data file}}
      file: "no-such-file.weights",
      w: "offset=0,length=4,alignment=4"
    }
  }
#-}

// -----

func.func @unknown_group() {
  func.return
}
{-#
  external_resources: {
    // expected-error @+1 {{unknown external resource group 'mlir_reactor' (red reads 'red.external_data')}}
    mlir_reactor: {
      file: "x"
    }
  }
#-}
