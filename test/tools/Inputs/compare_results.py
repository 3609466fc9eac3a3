"""Compare the result*.npy files of two red-run --output-dir directories: prints
`resultN.npy: agree` when dtype and shape are equal and the values agree within DESIGN.md §7's
tolerances (rtol 1e-4, atol 1e-5 relative to the largest magnitude), else `differ` and why."""

import sys
from pathlib import Path

import numpy as np

first, second = Path(sys.argv[1]), Path(sys.argv[2])
names = sorted(p.name for p in first.glob("result*.npy"))
if names != sorted(p.name for p in second.glob("result*.npy")) or not names:
    print(f"differ: result files {names} vs {sorted(p.name for p in second.glob('result*.npy'))}")
for name in names:
    a, b = np.load(first / name), np.load(second / name)
    if a.dtype != b.dtype or a.shape != b.shape:
        print(f"{name}: differ: {a.dtype}{a.shape} vs {b.dtype}{b.shape}")
        continue
    scale = max(1.0, float(np.abs(b).max())) if b.size and b.dtype.kind == "f" else 1.0
    ok = np.allclose(a, b, rtol=1e-4, atol=1e-5 * scale, equal_nan=True)
    print(f"{name}: agree" if ok else f"{name}: differ: max error {np.abs(a - b).max()}")
