"""Reference values for CanonicalAlignmentTests.matchesADirectComputation, straight from the
definitions in Sources/SondeStudy/CanonicalAlignment.swift, in numpy (float64 on the float32
data Sonde reads). Run: python3 benchmarks/references/alignment_reference.py

Data: n = 300 tokens, X 6 neurons (one of small variance), Y 4 neurons sharing X's first four;
the probe's weights W (3 classes x 6) and the neuron set S = {0, 2} are fixed numbers.
"""
import numpy as np

n, p, q = 300, 6, 4
r = np.arange(1, n + 1, dtype=np.float64)[:, None]
j = np.arange(p, dtype=np.float64)[None, :]
x = np.sin(0.37 * r * (j + 1)) + 0.5 * np.cos(0.11 * r * (j + 2))
x[:, 5] *= 0.01
x = x.astype(np.float32).astype(np.float64)
k = np.arange(q, dtype=np.float64)[None, :]
y = (0.8 * x[:, :q] + np.sin(0.23 * r * (k + 3))).astype(np.float32).astype(np.float64)
W = np.array([[1, -2, 0.5, 0, 3, 10], [0.2, 1, -1, 2, 0, -5], [-1, 0, 0.3, 1, 1, 0]], dtype=np.float64)
S = [0, 2]

xc, yc = x - x.mean(0), y - y.mean(0)
sxx, syy, sxy = xc.T @ xc / (n - 1), yc.T @ yc / (n - 1), xc.T @ yc / (n - 1)


def inv_sqrt(s):
    w, v = np.linalg.eigh(s)
    return v @ np.diag(w ** -0.5) @ v.T


def cca(sxx, syy, sxy):
    """Canonical weights A (rows, unit-variance variates) on X's side and the correlations."""
    kx, ky = inv_sqrt(sxx), inv_sqrt(syy)
    u, s, _ = np.linalg.svd(kx @ sxy @ ky)
    m = min(sxx.shape[0], syy.shape[0])
    return (kx @ u[:, :m]).T, s[:m]


def principal(c, share):
    """Principal axes (columns) of a centred side holding `share` of its variance."""
    w, v = np.linalg.eigh(np.cov(c.T))
    w, v = w[::-1], v[:, ::-1]
    keep = int(np.searchsorted(np.cumsum(w) / w.sum(), share) + 1)
    return v[:, :keep]


def alignment(rows, rho, S):
    shares = rows ** 2 / (rows ** 2).sum(1, keepdims=True)
    w = (rho[:, None] * shares).sum(0) / rho.sum()
    d, kk = len(w), len(S)
    value = w[S].sum()
    sd = np.sqrt(kk * w.var() * (d - kk) / (d - 1))
    return value, kk / d, sd, (value - kk / d) / sd


def probe(A, rho, kept):
    lam, V = np.linalg.eigh(sxx)
    lam, V = lam[::-1], V[:, ::-1]
    T = V @ np.diag(np.sqrt(lam))  # raw weights -> whitened coordinates
    Wc = W - W.mean(0)
    Wt, At = Wc @ T, A @ T
    Q, _ = np.linalg.qr(At.T)
    e = ((Wt @ Q) ** 2).sum(0)
    energy = e.sum() / (Wt ** 2).sum()
    corr = (rho * e).sum() / e.sum()
    _, s, vt = np.linalg.svd(Wt, full_matrices=False)
    Qw = vt[s > 1e-10 * s[0]]
    cosines = np.linalg.svd(Qw @ Q, compute_uv=False)
    in_kept = None if kept is None else (Wt[:, :kept] ** 2).sum() / (Wt ** 2).sum()
    return energy, len(rho) / p, corr, rho.mean(), cosines, in_kept


def show(name, A, rho, kept):
    loadings = (A @ sxx) / np.sqrt(np.diag(sxx))[None, :]
    print(f"// {name}: rho {np.array2string(rho, precision=15, separator=', ')}")
    print(f"//   by loadings (value, chance, sd, z): {alignment(loadings, rho, S)}")
    print(f"//   by weights: {alignment(A, rho, S)}")
    energy, echance, corr, cchance, cos, in_kept = probe(A, rho, kept)
    print(f"//   probe energy {energy!r} (chance {echance!r}), correlation {corr!r} (chance {cchance!r})")
    print(f"//   cosines {np.array2string(cos, precision=15, separator=', ')}, in kept {in_kept!r}")


A, rho = cca(sxx, syy, sxy)
show("plain CCA", A, rho, None)

# SVCCA at 99%: CCA between the kept principal components, weights mapped back to neurons.
Px, Py = principal(xc, 0.99), principal(yc, 0.99)
a, rho = cca(Px.T @ sxx @ Px, Py.T @ syy @ Py, Px.T @ sxy @ Py)
show(f"SVCCA 0.99 (kept {Px.shape[1]}, {Py.shape[1]})", a @ Px.T, rho, Px.shape[1])
