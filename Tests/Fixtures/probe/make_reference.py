"""Reference values for the probe tests, computed with scikit-learn (run from this folder):
    python3 make_reference.py
Made with numpy 2.4.6 and scikit-learn 1.9.1 (pip install numpy scikit-learn); its output:
    lambda=0.05 alpha=0.5 objective=0.615212160170 nonzero=4
    lambda=0.01 alpha=1.0 objective=0.515170208086 nonzero=6
    lambda=0.02 alpha=0.0 objective=0.501754053049 nonzero=8

Writes small.x.npy (float32, 300 × 8) and small.y.npy (int64 labels 0..2), then fits
LogisticRegression(solver="saga", l1_ratio=α, C=1/(λ n)) (multinomial, intercept unpenalised)
to a very tight tolerance and prints the glmnet-form objective
    mean cross-entropy + λ (α‖W‖₁ + (1 − α)/2 ‖W‖²_F)
at its solution, for each (λ, α) the tests use.
"""
import warnings

import numpy as np
from sklearn.linear_model import LogisticRegression

rng = np.random.default_rng(42)
n, d, c = 300, 8, 3
centers = rng.normal(0, 1.5, size=(c, 3))
y = rng.integers(0, c, size=n)
x = rng.normal(size=(n, d))
x[:, :3] += centers[y]
x[:, 5] = x[:, 0] * 0.8 + rng.normal(0, 0.3, size=n)  # a redundant copy
x = x.astype(np.float32)
np.save("small.x.npy", x)
np.save("small.y.npy", y.astype(np.int64))

xd = x.astype(np.float64)
for lam, alpha in [(0.05, 0.5), (0.01, 1.0), (0.02, 0.0)]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kwargs = dict(solver="saga", C=1.0 / (lam * n), tol=1e-12, max_iter=200000)
        if alpha == 0.0:
            model = LogisticRegression(l1_ratio=0.0, **kwargs)
        else:
            model = LogisticRegression(l1_ratio=alpha, **kwargs)
        model.fit(xd, y)
    z = xd @ model.coef_.T + model.intercept_
    z -= z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    loss = -logp[np.arange(n), y].mean()
    w = model.coef_
    objective = loss + lam * (alpha * np.abs(w).sum() + (1 - alpha) / 2 * (w * w).sum())
    print(f"lambda={lam} alpha={alpha} objective={objective:.12f} nonzero={int((np.abs(w) > 1e-8).any(axis=0).sum())}")
