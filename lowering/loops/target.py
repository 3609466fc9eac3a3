"""Code generation parameters of convert-red-to-loops, taken from the host CPU."""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.ir import Attribute


@dataclass(frozen=True)
class Target:
    """The vector width, and the register tile of the matmul kernel (rows by vectors)."""

    vector_bits: int = 512
    rows: int = 8
    vectors: int = 2

    def lanes(self, elt: Attribute) -> int:
        width = getattr(elt, "bitwidth", 32)
        return max(1, self.vector_bits // width)

    @staticmethod
    def with_vector_bits(bits: int) -> Target:
        """The tile for registers of `bits` (512: AVX-512, 256: AVX2, else SSE's 128)."""
        rows = {512: 8, 256: 6}.get(bits, 4)
        return Target(bits if bits in (512, 256) else 128, rows, 2)


def host_target() -> Target:
    """The vector width of this machine (AVX-512, AVX2 or SSE)."""
    try:
        import llvmlite.binding as llvm

        llvm.initialize_native_target()
        features = llvm.get_host_cpu_features()
    except Exception:  # no llvmlite or no native target: a conservative width
        return Target.with_vector_bits(128)
    if features.get("avx512f"):
        return Target.with_vector_bits(512)
    if features.get("avx2") or features.get("avx"):
        return Target.with_vector_bits(256)
    return Target.with_vector_bits(128)
