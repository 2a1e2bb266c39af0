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
