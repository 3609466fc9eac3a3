// An explicit empty module; expects 2:1: error: module defines no function: there is nothing to lower
builtin.module {
}
