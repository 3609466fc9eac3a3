// A file of comments only: an empty module has nothing to translate; expects 1:1: error: module defines no function: there is nothing to lower
// nothing but comments
