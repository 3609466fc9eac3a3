"""The red dialect, its interpreter implementations and the context that registers every
dialect red-opt reads."""
