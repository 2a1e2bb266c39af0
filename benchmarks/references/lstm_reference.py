"""Reference values for SondeModelsTests/LSTMReferenceTests: the same word-level LSTM language
model in PyTorch (nn.Embedding → nn.LSTM → nn.Linear, PyTorch's own gates and Adam), with
weights from a formula both sides compute: parameter k of the flat layout (encoder.weight,
rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0, … l1 …, decoder.weight,
decoder.bias) is 0.3·sin(0.37·k + 0.1). Prints each sentence's summed log-probability of
`w₁ … wₙ </s>` after `<s>`, then one Adam step (lr 0.01, no clipping, no dropout) on the mean
cross-entropy of both sentences, and each tensor's sum and first value after it.
Run: python3 benchmarks/references/lstm_reference.py"""
import math
import torch
import torch.nn as nn

torch.set_default_dtype(torch.float32)
V, H, L = 7, 4, 2
emb, rnn, dec = nn.Embedding(V, H), nn.LSTM(H, H, num_layers=L), nn.Linear(H, V)
params = [("encoder.weight", emb.weight)]
for k in range(L):
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        params.append((f"rnn.{name}_l{k}", getattr(rnn, f"{name}_l{k}")))
params += [("decoder.weight", dec.weight), ("decoder.bias", dec.bias)]
offset = 0
with torch.no_grad():
    for _, p in params:
        n = p.numel()
        p.copy_(torch.tensor([0.3 * math.sin(0.37 * (offset + i) + 0.1) for i in range(n)], dtype=torch.float64).float().reshape(p.shape))
        offset += n

# <s> = 1, </s> = 2, a b c d = 3 4 5 6. Time-major, the shorter sentence padded (target −1).
inputs = torch.tensor([[1, 1], [3, 6], [4, 3], [5, 0]])
targets = torch.tensor([[3, 6], [4, 3], [5, 2], [2, -1]])


def loss_and_logp():
    out, _ = rnn(emb(inputs))
    logits = dec(out)
    logp = torch.log_softmax(logits, dim=-1)
    per = [sum(logp[t, b, targets[t, b]].item() for t in range(4) if targets[t, b] >= 0) for b in range(2)]
    loss = nn.functional.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), ignore_index=-1)
    return loss, per


loss, per = loss_and_logp()
print("log p:", [f"{x:.9g}" for x in per])
optimizer = torch.optim.Adam([p for _, p in params], lr=0.01)
optimizer.zero_grad()
loss.backward()
optimizer.step()
for name, p in params:
    print(f'("{name}", {p.detach().double().sum().item():.9g}, {p.detach().reshape(-1)[0].item():.9g}),')

# Minimal pairs (MinimalPairTests): the same starting weights; pairs (a b c | a c c) and (d a | d b).
# Margins m = ln p(good) − ln p(bad), the gradient differential Δg = ∇ Σ m, its top 10% by |Δg|
# (ties to the lower index), and one Adam step (lr 0.01) ascending Σ m on those parameters only.
with torch.no_grad():
    offset = 0
    for _, p in params:
        n = p.numel()
        p.copy_(torch.tensor([0.3 * math.sin(0.37 * (offset + i) + 0.1) for i in range(n)], dtype=torch.float64).float().reshape(p.shape))
        offset += n


def logp(words):
    x = torch.tensor([[1] + words]).T
    y = torch.tensor(words + [2])
    out, _ = rnn(emb(x))
    return torch.log_softmax(dec(out)[:, 0], dim=-1).gather(1, y[:, None]).sum()


pairs = [([3, 4, 5], [3, 5, 5]), ([6, 3], [6, 4])]
margins = [logp(g) - logp(b) for g, b in pairs]
print("margins:", [f"{m.item():.9g}" for m in margins])
for _, p in params:
    p.grad = None
total = sum(margins)
total.backward()
flat = torch.cat([p.grad.reshape(-1) for _, p in params])
k = round(0.1 * flat.numel())
order = sorted(range(flat.numel()), key=lambda i: (-abs(flat[i].item()), i))
mask = sorted(order[:k])
print("mask:", mask)
keep = torch.zeros_like(flat)
keep[mask] = 1
offset = 0
for name, p in params:
    n = p.numel()
    print(f'Δg ("{name}", {p.grad.double().sum().item():.9g})')
    p.grad = -(p.grad.reshape(-1) * keep[offset:offset + n]).reshape(p.shape)  # ascend Σ m
    offset += n
optimizer = torch.optim.Adam([p for _, p in params], lr=0.01)
optimizer.step()
for name, p in params:
    print(f'("{name}", {p.detach().double().sum().item():.9g}, {p.detach().reshape(-1)[0].item():.9g}),')
