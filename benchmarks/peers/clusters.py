"""Peer of `sonde-bench redundancy`: correlation clustering of neurons as scipy does it —
np.corrcoef of the columns, dissimilarity 1 − |r| (condensed), scipy.cluster.hierarchy.linkage
(method="average"), fcluster at the threshold (criterion="distance"). Prints one JSON line with
the seconds and the cluster of every neuron."""
import argparse, json, time
import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

p = argparse.ArgumentParser()
p.add_argument("x"); p.add_argument("--threshold", type=float, default=0.3)
a = p.parse_args()
X = np.load(a.x)
start = time.perf_counter()
r = np.corrcoef(X, rowvar=False)
d = 1 - np.abs(r)
np.fill_diagonal(d, 0)
tree = linkage(squareform(d, checks=False), method="average")
labels = fcluster(tree, t=a.threshold, criterion="distance")
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "labels": labels.tolist()}))
