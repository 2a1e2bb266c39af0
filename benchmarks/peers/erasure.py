"""LEACE by EleutherAI's concept-erasure (the reference implementation) on the same data as
Sonde: times the fit and returns the erased first rows for comparison.

Usage: erasure.py PREFIX THREADS   (PREFIX.x.npy float32 [n, d], PREFIX.y.npy int64 [n])
Prints one JSON line: seconds (best of 2), the package version, erased rows 0..99.
Settings matching Sonde's closed form: float64 statistics, shrinkage off, no trace constraint,
a tiny (not 0.01) singular value tolerance.
"""
import json
import sys
import time
from importlib.metadata import version

import numpy as np
import torch
from concept_erasure import LeaceFitter

prefix, threads = sys.argv[1], int(sys.argv[2])
torch.set_num_threads(threads)
x = torch.from_numpy(np.load(prefix + ".x.npy"))
y = torch.from_numpy(np.load(prefix + ".y.npy"))
k = int(y.max()) + 1
best = float("inf")
for _ in range(2):
    start = time.perf_counter()
    z = torch.nn.functional.one_hot(y, k).to(torch.float64)
    fitter = LeaceFitter(x.shape[1], k, dtype=torch.float64, shrinkage=False, constrain_cov_trace=False, svd_tol=1e-10)
    fitter.update(x.to(torch.float64), z)
    eraser = fitter.eraser
    best = min(best, time.perf_counter() - start)
erased = eraser(x[:100].to(torch.float64)).numpy()
print(json.dumps({"seconds": best, "version": version("concept-erasure"), "torch": torch.__version__, "erased": erased.tolist()}))
