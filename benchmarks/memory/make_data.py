"""Inputs for benchmarks/memory.sh, written in blocks so that numpy itself stays small.

probe: X [rows, neurons] float32 (standard normal) and labels of 17 classes read from a linear
map of its first 64 neurons plus noise; similarity: X and Y [rows, neurons] float32 with Y a
noisy rotation of X's first half (so the measures have something to find).
"""
import sys
import numpy as np

kind, out, rows, neurons = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rng = np.random.default_rng(1)
block = 50_000
if kind == "probe":
    x = np.lib.format.open_memmap(out + "/x.npy", mode="w+", dtype=np.float32, shape=(rows, neurons))
    w = rng.standard_normal((64, 17))
    with open(out + "/y.txt", "w") as labels:
        for start in range(0, rows, block):
            n = min(block, rows - start)
            b = rng.standard_normal((n, neurons), dtype=np.float32)
            x[start:start + n] = b
            y = np.argmax(b[:, :64] @ w + rng.standard_normal((n, 17)), axis=1)
            labels.write("".join(f"c{v}\n" for v in y))
    x.flush()
else:
    x = np.lib.format.open_memmap(out + "/x.npy", mode="w+", dtype=np.float32, shape=(rows, neurons))
    y = np.lib.format.open_memmap(out + "/y.npy", mode="w+", dtype=np.float32, shape=(rows, neurons))
    half = neurons // 2
    r, _ = np.linalg.qr(rng.standard_normal((half, half)))
    r = r.astype(np.float32)
    for start in range(0, rows, block):
        n = min(block, rows - start)
        b = rng.standard_normal((n, neurons), dtype=np.float32)
        x[start:start + n] = b
        c = rng.standard_normal((n, neurons), dtype=np.float32)
        c[:, :half] += b[:, :half] @ r
        y[start:start + n] = c
    x.flush()
    y.flush()
