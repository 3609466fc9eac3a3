"""Helpers for testing red and models compiled with it: seeded random inputs, and a pass
that miscompiles on purpose (registered only when RED_TEST_PASSES=1)."""
