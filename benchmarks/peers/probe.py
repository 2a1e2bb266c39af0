"""The Python side of the probe benchmark, on the same .npy files Sonde reads:
- NeuroX 1.0.9's trainer (train_logistic_regression_probe: Adam, 10 epochs, batch 32), with its
  λ1 = λ2, timed and evaluated, and its own objective (mean CE + λ1‖W‖₁ + λ2‖W‖_F) on train;
- scikit-learn's saga (LogisticRegression(solver="saga", l1_ratio=α, C=1/(λ n))) on standardised
  features, with a cap on epochs, timed and evaluated, with the glmnet-form objective.
Usage: probe.py DATA_PREFIX L1L2 LAMBDA ALPHA SAGA_MAX_ITER THREADS. Prints one JSON object."""
import json
import sys
import time
import warnings

import numpy as np

np.int = int  # NeuroX 1.0.9 uses the removed alias
import torch  # noqa: E402
from neurox.interpretation import linear_probe as lp  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

prefix, l1l2, lam, alpha, saga_iter, threads = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
torch.set_num_threads(threads)
xtr = np.load(prefix + ".train.x.npy")
ytr = np.load(prefix + ".train.y.npy")
xte = np.load(prefix + ".test.x.npy")
yte = np.load(prefix + ".test.y.npy")
n = len(ytr)


def mean_ce(z, y):
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(y)), y].mean())


result = {"torch": torch.__version__, "threads": threads}

start = time.perf_counter()
probe = lp.train_logistic_regression_probe(xtr, ytr, lambda_l1=l1l2, lambda_l2=l1l2, num_epochs=10, batch_size=32)
result["neurox_seconds"] = time.perf_counter() - start
w = probe.linear.weight.detach().numpy().astype(np.float64)
b = probe.linear.bias.detach().numpy().astype(np.float64)
result["neurox_test_accuracy"] = float(((xte.astype(np.float64) @ w.T + b).argmax(axis=1) == yte).mean())
result["neurox_objective"] = float(mean_ce(xtr.astype(np.float64) @ w.T + b, ytr) + l1l2 * np.abs(w).sum() + l1l2 * np.sqrt((w * w).sum()))

mean = xtr.mean(axis=0)
std = xtr.std(axis=0)
std[std == 0] = 1
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    start = time.perf_counter()
    model = LogisticRegression(solver="saga", l1_ratio=alpha, C=1.0 / (lam * n), tol=1e-4, max_iter=saga_iter)
    model.fit((xtr - mean) / std, ytr)
    result["saga_seconds"] = time.perf_counter() - start
result["saga_iterations"] = int(np.max(model.n_iter_))
result["saga_converged"] = bool(np.max(model.n_iter_) < saga_iter)
z = ((xte - mean) / std) @ model.coef_.T + model.intercept_
result["saga_test_accuracy"] = float((z.argmax(axis=1) == yte).mean())
w = model.coef_
result["saga_objective"] = float(mean_ce(((xtr - mean) / std) @ w.T + model.intercept_, ytr) + lam * (alpha * np.abs(w).sum() + (1 - alpha) / 2 * (w * w).sum()))
print(json.dumps(result))
