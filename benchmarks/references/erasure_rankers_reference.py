"""Reference values for LEACE, the IoU neuron ranker, the Gaussian-probe greedy ranker, mutual
k-nearest-neighbour alignment and CKNNA, in numpy (float64). Every input is a closed formula
evaluated in Double and rounded to Float32 (Swift: `Float(formula)`, then `Double(...)` for the
arithmetic), as Sonde reads activations as Float32. i is the row (token) index from 0, j the
column (neuron) index from 0, [p] is 1 if p holds else 0. No RNG anywhere.
Run: benchmarks/.venv/bin/python benchmarks/references/erasure_rankers_reference.py
(numpy 2.4, optional cross-checks: concept-erasure 0.2.4, scipy, torch).

1. LEACE (Belrose et al. 2023, "LEACE: Perfect linear concept erasure in closed form", Thm 3.1).
   Data: n = 12, d = 4, k = 3, label(i) = i % 3, Z one-hot,
       x[i][j] = sin(0.7*(i+1)*(j+1)) + 0.3*cos(1.3*i + 0.5*j*j) + 0.8*[i % 3 == j % 3].
   mu = mean of rows; Xc = X - mu; Sxx = Xc^T Xc / (n-1); Sxz = Xc^T (Z - mean Z) / (n-1).
   eigh(Sxx) = V diag(L) V^T; keep eigenvalues L > max(L) * d * eps64 (torch.linalg.pinv's
   default threshold, also the one concept-erasure uses); W = V diag(L^-1/2 | 0) V^T (whitening),
   W+ = V diag(L^1/2 | 0) V^T. SVD W Sxz = U S V^T; U_r = columns with s > max(s) * max(d, k) *
   eps64 (rank k-1 = 2 here: centred one-hot columns sum to 0); P = U_r U_r^T.
   Eraser matrix E = W+ P W (d x d), bias = mu; r(x) = x - E (x - mu).
   Prints E, mu, the erased X, and the class means after erasure (all equal to mu), and the
   cross-covariance after erasure (zero). 1/n instead of 1/(n-1) scales W by sqrt(c) and W+ by
   1/sqrt(c) and leaves colspace(W Sxz) alone, so E does not change (checked below).
   1b. Rank-deficient variant: X' = X with column 3 replaced by x'[i][3] = x[i][0] - 0.5*x[i][1]
   (on the Float32-rounded x, exact in Double); Sxx has a zero eigenvalue, dropped by the
   threshold above (pseudo-inverses); class means after erasure are still equal.

2. IoU ranker (Mu & Andreas 2020 "Compositional Explanations of Neurons", atomic concepts).
   Data: n = 40, d = 6, label(i) = i % 3,
       a[i][j] = sin(0.9*i*(j+1) + 0.3*j) + 0.7*[i % 3 == j % 3]   for j = 0..4,
       a[i][5] = 2 * a[i][1]   (Float32 a[i][1] doubled: an exact deliberate tie with neuron 1).
   t_j = numpy.percentile(a[:, j], q) (default 'linear': sort v, h = (n-1)*q/100,
   t = v[floor h] + (h - floor h) * (v[floor h + 1] - v[floor h])); mask_j = a[:, j] > t_j
   (strict). mask_c = label == c. IoU(j, c) = |mask_j & mask_c| / |mask_j | mask_c|;
   score_j = max_c IoU(j, c) (best class: lowest c on ties); ranking by score descending, ties by
   lower neuron index. q = 80 (8 rows above) and q = 95 (2 rows above).

3. Gaussian probe greedy ranking (Torroba Hennigen, Williams & Cotterell 2020, "Intrinsic Probing
   through Dimension Selection"; simplified: maximum likelihood + ridge, not their NIW MAP).
   Rows i = 0..44, label(i) = i % 3, train = rows 0..29, held out = rows 30..44, d = 5,
       x[i][j] = sin(1.1*i + 0.7*j*j + 0.3) + 0.5*cos(0.37*i*(j+2)) + s[j]*(label(i) - 1),
       s = [0.1, 1.5, 0.0, -1.0, 0.5].
   For a dimension set D: per class c (train rows), mu_c = mean, Sigma_c = (1/n_c) sum (x-mu_c)
   (x-mu_c)^T + 1e-3 * I (ML covariance, ridge lambda = 1e-3), prior pi_c = n_c / n_train.
   log p(y|x) = log pi_y + log N(x; mu_y, Sigma_y) - logsumexp_c(log pi_c + log N(x; mu_c,
   Sigma_c)); score(D) = mean over held-out rows. Greedy: start empty; each step add the unused
   dimension with the highest score (strict >, so ties go to the lower index); all 5 steps.

4. Mutual kNN (Huh, Cheung, Wang & Isola 2024, "The Platonic Representation Hypothesis";
   github minyoungg/platonic-rep metrics.py `mutual_knn` + `compute_nearest_neighbors`, read
   from the repository). Data: n = 10, k = 3,
       A[i][j] = sin(0.5*i + 1.1*j + 0.2) + 0.3*cos(1.7*i*(j+1))                 (p = 3),
       B[i][j] = A[i][j] + 0.4*sin(2.3*i + 0.9*j) for j < 3, B[i][3] = cos(0.8*i + 0.5) (q = 4)
   (B from the Float32-rounded A, then rounded again). Rows are L2-normalised first (their
   measure_alignment.compute_score does F.normalize(dim=-1) before every metric; metrics.py itself
   does not); no centring. S = A_n A_n^T (cosine), diagonal set to -1e8 (self excluded),
   N_A(i) = the k largest of row i; score = mean_i |N_A(i) & N_B(i)| / k.
   Shuffled baseline: B_perm[i] = B[perm[i]], perm[i] = (3*i + 1) % 10 = [1,4,7,0,3,6,9,2,5,8].

5. CKNNA (same paper and file, `cknna`, defaults unbiased=True, distance_agnostic=False). On the
   normalised rows: K = A_n A_n^T, L = B_n B_n^T. For a pair (K, L): kNN of each row with the
   diagonal at -inf, mask = maskK * maskL (elementwise, NOT symmetric), sim = HSIC_u(mask*K,
   mask*L) with HSIC_u(K, L) (Song et al. 2012 eq. 5): Kt, Lt = K, L with zero diagonal,
   [sum(Kt * Lt^T) + sum(Kt) sum(Lt) / ((m-1)(m-2)) - 2 sum(Kt @ Lt) / (m-2)] / (m (m-3)).
   CKNNA = sim(K,L) / (sqrt(sim(K,K) sim(L,L)) + 1e-6) -- the 1e-6 is in their code.
"""
import itertools
import math

import numpy as np

EPS = np.finfo(np.float64).eps
f32 = lambda a: np.asarray(a, dtype=np.float64).astype(np.float32).astype(np.float64)


def lit(a):
    """A Swift array literal of full-precision Doubles (repr round-trips)."""
    a = np.asarray(a)
    if a.ndim == 0:
        return repr(float(a)) if a.dtype.kind == "f" else repr(int(a))
    return "[" + ", ".join(lit(x) for x in a) + "]"


# ----------------------------------------------------------------------------- 1. LEACE
def leace(X, Z, bessel=True, drop_tol=None):
    n, d = X.shape
    mu = X.mean(0)
    Xc, Zc = X - mu, Z - Z.mean(0)
    div = n - 1 if bessel else n
    sxx, sxz = Xc.T @ Xc / div, Xc.T @ Zc / div
    sxx = (sxx + sxx.T) / 2
    L, V = np.linalg.eigh(sxx)
    keep = L > L[-1] * d * EPS
    Lc = np.clip(L, 0, None)
    W = (V * np.where(keep, 1 / np.sqrt(np.where(keep, Lc, 1)), 0)) @ V.T
    Winv = (V * np.where(keep, np.sqrt(Lc), 0)) @ V.T
    U, s, _ = np.linalg.svd(W @ sxz, full_matrices=False)
    tol = s[0] * max(d, Z.shape[1]) * EPS if drop_tol is None else drop_tol
    Ur = U[:, s > tol]
    E = Winv @ Ur @ Ur.T @ W
    return E, mu, L, s


n1, d1, k1 = 12, 4, 3
i1 = np.arange(n1)[:, None]
j1 = np.arange(d1)[None, :]
y1 = np.arange(n1) % 3
X1 = f32(np.sin(0.7 * (i1 + 1) * (j1 + 1)) + 0.3 * np.cos(1.3 * i1 + 0.5 * j1 * j1) + 0.8 * (i1 % 3 == j1 % 3))
Z1 = np.eye(k1)[y1]
E1, mu1, L1, s1 = leace(X1, Z1)
R1 = X1 - (X1 - mu1) @ E1.T
means1 = np.array([R1[y1 == c].mean(0) for c in range(k1)])
cross1 = (R1 - R1.mean(0)).T @ (Z1 - Z1.mean(0)) / (n1 - 1)
E1n, *_ = leace(X1, Z1, bessel=False)

print("// 1. LEACE, n = 12, d = 4, k = 3")
print(f"// input X (Float32-rounded) = {lit(X1)}")
print(f"// eigenvalues of Sxx (1/(n-1)) = {lit(L1)}")
print(f"// singular values of W Sxz = {lit(s1)} (kept: {int((s1 > s1[0] * 4 * EPS).sum())})")
print(f"let leaceEraser: [[Double]] = {lit(E1)}  // E = W+ P W, r(x) = x - E (x - mu)")
print(f"let leaceBias: [Double] = {lit(mu1)}")
print(f"let leaceErased: [[Double]] = {lit(R1)}")
print(f"let leaceClassMeans: [[Double]] = {lit(means1)}")
print(f"// max |class mean - mu| after erasure = {float(np.abs(means1 - mu1).max())!r}")
print(f"// max |cross-covariance(r(X), Z)| after erasure = {float(np.abs(cross1).max())!r}")
print(f"// trace(E) = {float(np.trace(E1))!r} (rank k-1 = 2 oblique projection), max |E E - E| = {float(np.abs(E1 @ E1 - E1).max())!r}")
print(f"// 1/n vs 1/(n-1) covariance: max |E_n - E_(n-1)| = {float(np.abs(E1n - E1).max())!r}")

# 1b. rank-deficient Sxx
X1b = X1.copy()
X1b[:, 3] = X1[:, 0] - 0.5 * X1[:, 1]
E1b, mu1b, L1b, s1b = leace(X1b, Z1)
R1b = X1b - (X1b - mu1b) @ E1b.T
means1b = np.array([R1b[y1 == c].mean(0) for c in range(k1)])
print("// 1b. rank-deficient: column 3 := x[i][0] - 0.5*x[i][1]")
print(f"// eigenvalues of Sxx = {lit(L1b)}; threshold max(L)*d*eps = {float(L1b[-1] * d1 * EPS)!r}")
print(f"let leaceEraserRankDeficient: [[Double]] = {lit(E1b)}")
print(f"let leaceClassMeansRankDeficient: [[Double]] = {lit(means1b)}")
print(f"// max |class mean - mu| after erasure = {float(np.abs(means1b - mu1b).max())!r}")

try:  # cross-check: EleutherAI's concept-erasure (pip install concept-erasure)
    import torch
    from concept_erasure import LeaceFitter

    tX, tZ = torch.tensor(X1), torch.tensor(Z1)
    for label, kw in [("shrinkage=False", dict(shrinkage=False)),
                      ("shrinkage=False, constrain_cov_trace=False", dict(shrinkage=False, constrain_cov_trace=False)),
                      ("package defaults (shrinkage=True)", {})]:
        er = LeaceFitter.fit(tX, tZ, **kw).eraser
        Ep = (er.proj_left @ er.proj_right).numpy()
        Rp = er(tX).numpy()
        print(f"// concept-erasure {label}: max |E - E_pkg| = {np.abs(Ep - E1).max():.3e}, "
              f"max |r(X) - r_pkg(X)| = {np.abs(Rp - R1).max():.3e}, bias diff {np.abs(er.bias.numpy() - mu1).max():.1e}")
    er = LeaceFitter.fit(torch.tensor(X1b), tZ, shrinkage=False).eraser
    print(f"// concept-erasure rank-deficient, shrinkage=False: max |E - E_pkg| = "
          f"{np.abs((er.proj_left @ er.proj_right).numpy() - E1b).max():.3e}")
except ImportError:
    print("// (concept-erasure not installed: package cross-check skipped)")

# ----------------------------------------------------------------------------- 2. IoU ranker
n2, d2, k2 = 40, 6, 3
i2 = np.arange(n2)[:, None]
j2 = np.arange(d2)[None, :]
y2 = np.arange(n2) % 3
A2 = f32(np.sin(0.9 * i2 * (j2 + 1) + 0.3 * j2) + 0.7 * (i2 % 3 == j2 % 3))
A2[:, 5] = 2 * A2[:, 1]


def iou_rank(A, y, q):
    t = np.percentile(A, q, axis=0)
    masks = A > t
    cls = np.stack([y == c for c in range(k2)], 1)
    inter = masks.T.astype(int) @ cls.astype(int)
    union = masks.sum(0)[:, None] + cls.sum(0)[None, :] - inter
    iou = inter / union
    scores = iou.max(1)
    order = sorted(range(A.shape[1]), key=lambda j: (-scores[j], j))
    return t, masks, iou, scores, order


def iou_loop(A, y, q):
    """Direct loops: own linear-interpolation percentile, counts by hand."""
    n, d = A.shape
    out = []
    for j in range(d):
        v = sorted(A[:, j])
        h = (n - 1) * (q / 100)
        lo = math.floor(h)
        t = v[lo] + (h - lo) * (v[min(lo + 1, n - 1)] - v[lo])
        best = -1.0
        for c in range(3):
            inter = sum(1 for i in range(n) if A[i, j] > t and y[i] == c)
            union = sum(1 for i in range(n) if A[i, j] > t or y[i] == c)
            best = max(best, inter / union)
        out.append((t, best))
    return out


print("\n// 2. IoU ranker, n = 40, d = 6, 3 classes")
for q in (80, 95):
    t, masks, iou, scores, order = iou_rank(A2, y2, q)
    loop = iou_loop(A2, y2, q)
    print(f"// q = {q}: rows above = {lit(masks.sum(0))}, best class = {lit(iou.argmax(1))}")
    print(f"let iouPercentiles{q}: [Double] = {lit(t)}")
    print(f"let iouMatrix{q}: [[Double]] = {lit(iou)}  // [neuron][class]")
    print(f"let iouScores{q}: [Double] = {lit(scores)}")
    print(f"let iouRanking{q}: [Int] = {lit(np.array(order))}")
    print(f"// loop check: max |t - t_loop| = {max(abs(a - b[0]) for a, b in zip(t, loop)):.1e}, "
          f"scores equal: {all(a == b[1] for a, b in zip(scores, loop))}")
    # how close is any activation to its threshold (a strict-vs-non-strict or ulp hazard)
    gap = np.abs(A2 - t).min()
    print(f"// min |a - t| over all cells = {gap:.3e}")

# ----------------------------------------------------------------------------- 3. Gaussian probe
n3, d3, k3, ntr = 45, 5, 3, 30
i3 = np.arange(n3)[:, None]
j3 = np.arange(d3)[None, :]
y3 = np.arange(n3) % 3
s3 = np.array([0.1, 1.5, 0.0, -1.0, 0.5])[None, :]
X3 = f32(np.sin(1.1 * i3 + 0.7 * j3 * j3 + 0.3) + 0.5 * np.cos(0.37 * i3 * (j3 + 2)) + s3 * (y3[:, None] - 1))
LAM = 1e-3


def gauss_score(Xtr, ytr, Xte, yte, dims):
    m = len(dims)
    logj = np.zeros((len(Xte), k3))
    for c in range(k3):
        Xc = Xtr[ytr == c][:, dims]
        mu = Xc.mean(0)
        S = (Xc - mu).T @ (Xc - mu) / len(Xc) + LAM * np.eye(m)
        C = np.linalg.cholesky(S)
        D = np.linalg.solve(C, (Xte[:, dims] - mu).T)
        logdet = 2 * np.log(np.diag(C)).sum()
        logj[:, c] = math.log(len(Xc) / len(Xtr)) - 0.5 * (m * math.log(2 * math.pi) + logdet + (D ** 2).sum(0))
    mx = logj.max(1, keepdims=True)
    lse = (mx + np.log(np.exp(logj - mx).sum(1, keepdims=True)))[:, 0]
    return (logj[np.arange(len(Xte)), yte] - lse).mean()


def greedy(score):
    chosen, trail, gaps = [], [], []
    while len(chosen) < d3:
        vals = {j: score(chosen + [j]) for j in range(d3) if j not in chosen}
        best, arg = -np.inf, None
        for j, v in vals.items():
            if v > best:
                best, arg = v, j
        chosen.append(arg)
        trail.append(best)
        gaps.append(best - max([v for j, v in vals.items() if j != arg], default=np.nan))
    return chosen, trail, gaps


Xtr, ytr, Xte, yte = X3[:ntr], y3[:ntr], X3[ntr:], y3[ntr:]
order3, trail3, gaps3 = greedy(lambda D: gauss_score(Xtr, ytr, Xte, yte, D))
print("\n// 3. Gaussian probe greedy selection, train rows 0..29, held-out rows 30..44, d = 5, lambda = 1e-3")
print(f"let gaussianOrder: [Int] = {lit(np.array(order3))}")
print(f"let gaussianHeldOutLogLik: [Double] = {lit(np.array(trail3))}  // mean log p(label | x) after each step")
print(f"// margin of the winner over the runner-up at each step: {lit(np.array(gaps3))}")
print(f"// log(1/3) (chance with equal priors) = {float(math.log(1 / 3))!r}")
first = [gauss_score(Xtr, ytr, Xte, yte, [j]) for j in range(d3)]
print(f"// step-1 scores of every single neuron: {lit(np.array(first))}")
try:
    from scipy.special import logsumexp
    from scipy.stats import multivariate_normal

    def scipy_score(D):
        lj = np.stack([np.log((ytr == c).mean()) + multivariate_normal(
            Xtr[ytr == c][:, D].mean(0),
            np.cov(Xtr[ytr == c][:, D].T, bias=True).reshape(len(D), len(D)) + LAM * np.eye(len(D))).logpdf(Xte[:, D]).reshape(-1)
            for c in range(k3)], 1)
        return (lj[np.arange(len(Xte)), yte] - logsumexp(lj, 1)).mean()

    o, tr, _ = greedy(scipy_score)
    print(f"// scipy check: same order {o == order3}, max |diff| = {np.abs(np.array(tr) - trail3).max():.1e}")
except ImportError:
    print("// (scipy not installed: check skipped)")

# ----------------------------------------------------------------------------- 4./5. mutual kNN, CKNNA
n4, k4 = 10, 3
i4 = np.arange(n4)[:, None]
A4 = f32(np.sin(0.5 * i4 + 1.1 * np.arange(3)[None, :] + 0.2) + 0.3 * np.cos(1.7 * i4 * (np.arange(3)[None, :] + 1)))
B4 = np.zeros((n4, 4))
B4[:, :3] = A4 + 0.4 * np.sin(2.3 * i4 + 0.9 * np.arange(3)[None, :])
B4[:, 3] = np.cos(0.8 * np.arange(n4) + 0.5)
B4 = f32(B4)
perm = (3 * np.arange(n4) + 1) % n4
normalize = lambda F: F / np.maximum(np.linalg.norm(F, axis=1, keepdims=True), 1e-12)


def knn(F, k):
    S = F @ F.T
    np.fill_diagonal(S, -1e8)
    return np.argsort(-S, axis=1, kind="stable")[:, :k]


def knn_gap(F, k):
    """Smallest gap between the k-th and (k+1)-th similarity of any row (tie hazard)."""
    S = F @ F.T
    np.fill_diagonal(S, -np.inf)
    srt = -np.sort(-S, axis=1)
    return (srt[:, k - 1] - srt[:, k]).min()


def mutual_knn(F, G, k):
    a, b = knn(F, k), knn(G, k)
    return np.mean([len(set(a[i]) & set(b[i])) / k for i in range(len(F))])


def mutual_knn_loop(F, G, k):
    n = len(F)
    tot = 0.0
    for i in range(n):
        nb = []
        for M in (F, G):
            sims = [(sum(M[i, t] * M[r, t] for t in range(M.shape[1])), r) for r in range(n) if r != i]
            nb.append({r for _, r in sorted(sims, key=lambda x: (-x[0], x[1]))[:k]})
        tot += len(nb[0] & nb[1]) / k
    return tot / n


def hsic_u(K, L):
    m = K.shape[0]
    Kt, Lt = K.copy(), L.copy()
    np.fill_diagonal(Kt, 0)
    np.fill_diagonal(Lt, 0)
    v = (Kt * Lt.T).sum() + Kt.sum() * Lt.sum() / ((m - 1) * (m - 2)) - 2 * (Kt @ Lt).sum() / (m - 2)
    return v / (m * (m - 3))


def hsic_u_loop(K, L):
    m = K.shape[0]
    off = [(a, b) for a in range(m) for b in range(m) if a != b]
    t1 = sum(K[a, b] * L[b, a] for a, b in off)  # trace(Kt Lt)
    t2 = sum(K[a, b] for a, b in off) * sum(L[a, b] for a, b in off) / ((m - 1) * (m - 2))
    t3 = sum(K[a, c] * L[c, b] for a in range(m) for c in range(m) for b in range(m) if a != c and c != b)
    return (t1 + t2 - 2 * t3 / (m - 2)) / (m * (m - 3))


def hsic_u_symmetric(K, L):
    """The pitfall: sum(Kt * Lt) in place of sum(Kt * Lt^T) (equal only for symmetric masks)."""
    return hsic_u(K, L) + ((K * L).sum() - (K * L.T).sum()) / (K.shape[0] * (K.shape[0] - 3))


def cknna(F, G, k, eps=1e-6, hsic=hsic_u):
    n = len(F)
    K, L = F @ F.T, G @ G.T

    def sim(K, L):
        mk = np.zeros((n, n))
        ml = np.zeros((n, n))
        Kh, Lh = K.copy(), L.copy()
        np.fill_diagonal(Kh, -np.inf)
        np.fill_diagonal(Lh, -np.inf)
        mk[np.arange(n)[:, None], np.argsort(-Kh, 1, kind="stable")[:, :k]] = 1
        ml[np.arange(n)[:, None], np.argsort(-Lh, 1, kind="stable")[:, :k]] = 1
        mask = mk * ml
        return hsic(mask * K, mask * L)

    skl, skk, sll = sim(K, L), sim(K, K), sim(L, L)
    return skl / (math.sqrt(skk * sll) + eps), (skl, skk, sll)


An, Bn, Bpn = normalize(A4), normalize(B4), normalize(B4[perm])
print("\n// 4. mutual kNN, n = 10, p = 3, q = 4, k = 3, rows L2-normalised, cosine, self excluded")
print(f"// input A = {lit(A4)}")
print(f"// input B = {lit(B4)}")
print(f"// kNN A (by row) = {lit(knn(An, k4))}")
print(f"// kNN B (by row) = {lit(knn(Bn, k4))}")
print(f"// kNN B shuffled  = {lit(knn(Bpn, k4))}")
print(f"// smallest k-th vs (k+1)-th similarity gap: A {knn_gap(An, k4):.3e}, B {knn_gap(Bn, k4):.3e}, "
      f"B shuffled {knn_gap(Bpn, k4):.3e}")
mk, mkp = mutual_knn(An, Bn, k4), mutual_knn(An, Bpn, k4)
hits = sum(len(set(a) & set(b)) for a, b in zip(knn(An, k4), knn(Bn, k4)))
print(f"let mutualKNN: Double = {float(mk)!r}  // = {hits}/{n4 * k4} exactly; mean of per-row ratios rounds differently")
print(f"let mutualKNNShuffled: Double = {float(mkp)!r}  // B rows permuted: B_perm[i] = B[(3i+1) % 10]")
print(f"// brute-force loop: {float(mutual_knn_loop(An, Bn, k4))!r}, shuffled {float(mutual_knn_loop(An, Bpn, k4))!r}")
print(f"// without row normalisation (raw inner products, metrics.py called directly): "
      f"{float(mutual_knn(A4, B4, k4))!r}, shuffled {float(mutual_knn(A4, B4[perm], k4))!r}")

print("\n// 5. CKNNA (unbiased HSIC, k = 3), same normalised A, B")
c5, parts = cknna(An, Bn, k4)
c5p, partsp = cknna(An, Bpn, k4)
print(f"let cknna: Double = {float(c5)!r}")
print(f"let cknnaShuffled: Double = {float(c5p)!r}")
print(f"// parts (sim_KL, sim_KK, sim_LL) = {lit(np.array(parts))}; shuffled {lit(np.array(partsp))}")
print(f"// without the + 1e-6: {float(cknna(An, Bn, k4, eps=0)[0])!r}, shuffled {float(cknna(An, Bpn, k4, eps=0)[0])!r}")
print(f"// brute-force HSIC loops: {float(cknna(An, Bn, k4, hsic=hsic_u_loop)[0])!r}")
print(f"// pitfall, sum(Kt * Lt) without the transpose: {float(cknna(An, Bn, k4, hsic=hsic_u_symmetric)[0])!r}")
print(f"// without row normalisation: {float(cknna(A4, B4, k4)[0])!r}")

# ----------------------------------------------------------------------------- 1c. duplicate column
# Rank-deficient in Float as well: column 3 := column 0 (exact in Float32, unlike 1b's
# x0 - 0.5*x1, which Float32 cannot hold; Sonde's tests use this one).
X1c = X1.copy()
X1c[:, 3] = X1[:, 0]
E1c, mu1c, L1c, s1c = leace(X1c, Z1)
R1c = X1c - (X1c - mu1c) @ E1c.T
print("\n// 1c. rank-deficient in Float32 too: column 3 := column 0")
print(f"// eigenvalues of Sxx = {lit(L1c)}; threshold max(L)*d*eps = {float(L1c[-1] * d1 * EPS)!r}")
print(f"let leaceEraserDuplicateColumn: [[Double]] = {lit(E1c)}")
print(f"let leaceClassMeansDuplicateColumn: [[Double]] = {lit(np.array([R1c[y1 == c].mean(0) for c in range(k1)]))}")
