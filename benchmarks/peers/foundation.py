"""The numpy side of the foundation benchmark: sgemm at 2048² and reading 1 GB .npy and
safetensors files. Prints one JSON object. Usage: foundation.py DATA_FOLDER REPEATS"""
import json
import os
import sys
import time

import numpy as np
from safetensors.numpy import load_file
from threadpoolctl import threadpool_info

data, repeats = sys.argv[1], int(sys.argv[2])


def best(f):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


n = 2048
rng = np.random.default_rng(0)
a = rng.standard_normal((n, n), dtype=np.float32)
b = rng.standard_normal((n, n), dtype=np.float32)
a @ b  # warm up the thread pool
sgemm = best(lambda: a @ b)

npy = best(lambda: np.load(os.path.join(data, "big.npy")))
st = best(lambda: load_file(os.path.join(data, "big.safetensors"))["x"])
blas = [f"{i['internal_api']} {i['version']} ({i['num_threads']} threads, {i.get('architecture')})"
        for i in threadpool_info() if i["user_api"] == "blas"]
print(json.dumps({"sgemm_seconds": sgemm, "npy_seconds": npy, "safetensors_seconds": st,
                  "numpy": np.__version__, "blas": blas}))
