"""Peer of `sonde-bench path-real`: glmnet's multinomial elastic net along a given λ path
(python-glmnet 2.6.1, the Fortran lognet; one thread), standardised, on the same train file,
each λ scored on the held-out file; the selected λ is the first with the best accuracy.
Usage: glmnet_path.py DATA_PREFIX ALPHA LAMBDAS(comma-separated, decreasing) TOL. Prints one JSON object."""
import json
import sys
import time

import numpy as np
from glmnet import LogitNet

prefix, alpha, lambdas, tol = sys.argv[1], float(sys.argv[2]), [float(v) for v in sys.argv[3].split(",")], float(sys.argv[4])
xtr = np.load(prefix + ".train.x.npy").astype(np.float64)
ytr = np.load(prefix + ".train.y.npy")
xte = np.load(prefix + ".test.x.npy").astype(np.float64)
yte = np.load(prefix + ".test.y.npy")
model = LogitNet(alpha=alpha, lambda_path=np.array(lambdas), standardize=True, n_splits=0, tol=tol, max_iter=100000)
start = time.perf_counter()
model.fit(xtr, ytr)
seconds = time.perf_counter() - start
path = model.lambda_path_
accuracies = [float(np.mean(model.predict(xte, lamb=lam) == yte)) for lam in path]
best = int(np.argmax(accuracies))
print(json.dumps({"seconds": seconds, "lambdas": [float(v) for v in path], "accuracies": accuracies, "selected": best,
                  "selected_lambda": float(path[best]), "selected_accuracy": accuracies[best], "tol": tol}))
