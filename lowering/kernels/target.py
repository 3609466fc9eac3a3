"""What the kernels are generated for: the vector width, register count and cache sizes of an
x86-64 CPU (the host's, read from LLVM and sysfs, or a named baseline), and the matmul blocking
(MR x NR register tile, KC/NC/MC cache blocks) derived from them."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

# Caches assumed when sysfs does not say (a typical desktop core): 32 KiB L1d, 1 MiB L2.
DEFAULT_L1D = 32 * 1024
DEFAULT_L2 = 1024 * 1024


@dataclass(frozen=True)
class Blocking:
    """GotoBLAS/BLIS blocking for one element type (sizes in elements).

    The register tile is MR rows of C by NR = NV vectors of columns: each step of k loads NV
    vectors of the packed B panel, broadcasts MR values of the packed A panel and issues MR*NV
    FMAs into MR*NV accumulators. KC bounds the k-extent of one pass so that the MR x KC A
    micro-panel stays in L1 while B's KC x NR micro-panels stream through it; NC bounds a packed
    B block (KC x NC) to half of L2; MC bounds the rows one task covers."""

    lanes: int
    mr: int
    nv: int
    kc: int
    nc: int
    mc: int
    ku: int = 4  # unrolling of the micro-kernel's k loop
    tasks_per_thread: int = 4  # parallel calls split into about this many tasks per thread

    @property
    def nr(self) -> int:
        return self.nv * self.lanes


@dataclass(frozen=True)
class KernelTarget:
    """An x86-64 code generation target for the kernel library."""

    vector_bits: int = 128
    registers: int = 16
    l1d: int = DEFAULT_L1D
    l2: int = DEFAULT_L2
    cpu: str = "x86-64"
    features: str = ""
    overrides: dict[str, dict[str, int]] = field(default_factory=dict, compare=False)

    @property
    def key(self) -> tuple[int, int, int, int, str, str, str]:
        """What the generated code depends on (for caches of compiled libraries): the CPU
        features too (with or without AVX512-BF16 and AMX, the bf16 matmul differs)."""
        over = repr(sorted((k, sorted(v.items())) for k, v in self.overrides.items()))
        return (self.vector_bits, self.registers, self.l1d, self.l2, self.cpu, over, self.features)

    @property
    def has_bf16(self) -> bool:
        """Whether the target has AVX512-BF16 (`vdpbf16ps`) on 512-bit vectors."""
        return self.vector_bits == 512 and "+avx512bf16" in self.features.split(",")

    @property
    def has_amx(self) -> bool:
        """Whether the target has AMX-BF16 tiles (the bf16 matmul's faster micro-kernel)."""
        features = self.features.split(",")
        return self.has_bf16 and "+amx-bf16" in features and "+amx-tile" in features

    def lanes(self, elt_bytes: int) -> int:
        return self.vector_bits // (8 * elt_bytes)

    def blocking(self, elt_bytes: int) -> Blocking:
        """The blocking for elements of `elt_bytes` bytes (4 for f32, 8 for f64).

        NV and MR come from the register file: MR*NV accumulators, NV loaded B vectors and one
        broadcast A value must fit, (MR + 1)*NV + 1 <= registers; NV = 3 where there are 32
        vector registers (AVX-512: an 8 x 48 f32 tile, 24 accumulators), else 2 (AVX2/SSE:
        6 x 16 / 6 x 8). MR is the largest even count that fits, so M = 128 needs no edge tile.
        KC makes a B micro-panel (KC x NR) as large as L1 (measured best among 128..768 on an
        AVX-512 core with 48 KiB L1: 256), NC fills half of L2 with the packed B block
        (KC x NC)."""
        lanes = self.lanes(elt_bytes)
        nv = 3 if self.registers >= 32 else 2
        mr = ((self.registers - 1 - nv) // nv) & ~1
        nr = nv * lanes
        kc = max(128, min(_round_down(self.l1d // (nr * elt_bytes), 64), 512))
        nc = max(nr, _round_down(self.l2 // (2 * kc * elt_bytes), nr))
        values = {"mr": mr, "nv": nv, "kc": kc, "nc": nc, "mc": 8 * 1024 // mr * mr}
        values.update(self.overrides.get("f64" if elt_bytes == 8 else "f32", {}))
        return Blocking(lanes=lanes, **values)

    @staticmethod
    def host() -> KernelTarget:
        """The CPU this process runs on: AVX-512 (32 registers of 512 bits), AVX2 or SSE2."""
        import llvmlite.binding as llvm

        llvm.initialize_native_target()
        features = llvm.get_host_cpu_features()
        if features.get("avx512f"):
            bits, registers = 512, 32
        elif features.get("avx2") and features.get("fma"):
            bits, registers = 256, 16
        else:
            bits, registers = 128, 16
        l1d, l2 = host_caches()
        return KernelTarget(
            vector_bits=bits,
            registers=registers,
            l1d=l1d,
            l2=l2,
            cpu=llvm.get_host_cpu_name(),
            features=features.flatten(),
        )

    @staticmethod
    def baseline() -> KernelTarget:
        """Any x86-64 CPU (SSE2, 16 registers of 128 bits), typical caches."""
        return KernelTarget()


def host_caches() -> tuple[int, int]:
    """(L1 data, L2) bytes of CPU 0 from sysfs, or the defaults where it does not say."""
    l1d, l2 = DEFAULT_L1D, DEFAULT_L2
    root = Path("/sys/devices/system/cpu/cpu0/cache")
    for index in sorted(root.glob("index*")) if root.is_dir() else []:
        try:
            level = int((index / "level").read_text())
            kind = (index / "type").read_text().strip()
            size = _parse_size((index / "size").read_text().strip())
        except (OSError, ValueError):
            continue
        if level == 1 and kind in ("Data", "Unified"):
            l1d = size
        elif level == 2 and kind in ("Data", "Unified"):
            l2 = size
    return l1d, l2


_amx: list[bool] = []


def amx_permitted() -> bool:
    """Whether Linux lets this process use AMX tile data: arch_prctl(ARCH_REQ_XCOMP_PERM,
    XFEATURE_XTILEDATA), the request the library's AMX kernels also make on their first call
    (asked once; granted for the whole process)."""
    if not _amx:
        import ctypes

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            _amx.append(libc.syscall(158, 0x1023, 18) == 0)
        except (OSError, AttributeError):
            _amx.append(False)
    return _amx[0]


def default_threads() -> int:
    """RED_NUM_THREADS if set to a positive integer, else the CPUs this process may use."""
    env = os.environ.get("RED_NUM_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def _parse_size(text: str) -> int:
    units = {"K": 1024, "M": 1024 * 1024, "G": 1024 * 1024 * 1024}
    if text and text[-1].upper() in units:
        return int(text[:-1]) * units[text[-1].upper()]
    return int(text)


def _round_down(x: int, step: int) -> int:
    return x - x % step
