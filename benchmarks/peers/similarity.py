"""Peer of `sonde-bench similarity`: google/svcca's get_cca_similarity followed step by step in
numpy (as ../shared/reference/svcca/README.md describes it; checked against google's outputs by
the same suite): float64 covariance of the stacked neurons (np.cov), rescaling by max|Σ|, removal
of neurons with rescaled variance < ε, ridge ε·I, pinv, eigh square roots, SVD. Input X.npy and
Y.npy [datapoints, neurons] float32 (google takes the transposes). Prints one JSON line with the
seconds (best of --repeats) and the plain and thresholded means."""
import argparse, json, time
import numpy as np

p = argparse.ArgumentParser()
p.add_argument("x"); p.add_argument("y"); p.add_argument("--epsilon", type=float, default=1e-10)
p.add_argument("--repeats", type=int, default=2)
a = p.parse_args()
X, Y = np.load(a.x), np.load(a.y)


def sqrtm_psd(m):
    w, v = np.linalg.eigh(m)
    return v @ np.diag(np.sqrt(w)) @ v.T


def google_cca(acts1, acts2, eps, threshold=0.98):
    numx = acts1.shape[0]
    cov = np.cov(acts1, acts2)
    sxx, sxy, syy = cov[:numx, :numx], cov[:numx, numx:], cov[numx:, numx:]
    xmax, ymax = np.max(np.abs(sxx)), np.max(np.abs(syy))
    sxx = sxx / xmax; syy = syy / ymax; sxy = sxy / np.sqrt(xmax * ymax)
    xi = np.abs(np.diag(sxx)) >= eps; yi = np.abs(np.diag(syy)) >= eps
    sxx = sxx[xi][:, xi] + eps * np.eye(xi.sum()); syy = syy[yi][:, yi] + eps * np.eye(yi.sum()); sxy = sxy[xi][:, yi]
    ix, iy = sqrtm_psd(np.linalg.pinv(sxx)), sqrtm_psd(np.linalg.pinv(syy))
    s = np.abs(np.linalg.svd(ix @ sxy @ iy, compute_uv=False))
    idx = next((i for i in range(len(s)) if np.sum(s[:i]) / np.sum(s) >= threshold), None)
    return float(np.mean(s)), float(np.mean(s[:idx]))


best = float("inf")
for _ in range(a.repeats):
    start = time.perf_counter()
    mean, thresholded = google_cca(X.T, Y.T, a.epsilon)
    best = min(best, time.perf_counter() - start)
print(json.dumps({"seconds": best, "mean": mean, "thresholded": thresholded}))
