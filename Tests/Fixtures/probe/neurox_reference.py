"""NeuroX 1.0.9's own trainer on small.{x,y}.npy (run from this folder, in benchmarks/.venv):
    python3 neurox_reference.py
Trains train_logistic_regression_probe (Adam lr 0.001, 10 epochs, batch 32, λ1 = λ2 = 0.01) with
torch seeded, and prints NeuroX's objective at its solution on the same data:
    mean cross-entropy + λ1‖W‖₁ + λ2‖W‖_F
Made with neurox 1.0.9 (pip install --no-deps) and torch 2.13.0+cpu; its output:
    neurox objective=1.114751 (epochs 10), accuracy=0.4100
"""
import numpy as np

np.int = int  # NeuroX 1.0.9 uses the removed alias
import torch  # noqa: E402
from neurox.interpretation import linear_probe as lp  # noqa: E402

torch.manual_seed(0)
torch.set_num_threads(1)
x = np.load("small.x.npy")
y = np.load("small.y.npy")
probe = lp.train_logistic_regression_probe(x, y, lambda_l1=0.01, lambda_l2=0.01, num_epochs=10, batch_size=32)
w = probe.linear.weight.detach().numpy().astype(np.float64)
b = probe.linear.bias.detach().numpy().astype(np.float64)
z = x.astype(np.float64) @ w.T + b
z -= z.max(axis=1, keepdims=True)
logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
loss = -logp[np.arange(len(y)), y].mean()
objective = loss + 0.01 * np.abs(w).sum() + 0.01 * np.sqrt((w * w).sum())
print(f"neurox objective={objective:.6f} (epochs 10), accuracy={(z.argmax(axis=1) == y).mean():.4f}")
