"""Peer for the taskspace suite: the transfer space of a sonde-lstm checkpoint rebuilt in PyTorch
(nn.Embedding → nn.LSTM → nn.Linear loaded from its model.safetensors, same threads), on the same
train/test splits Sonde used (written by sonde-bench): per task the gradient differential
Δg = ∇ Σ [ln p(good) − ln p(bad)] over its train pairs, the top 1% of |Δg| as the mask, then for
each task and seed a copy tuned by FTGD (Adam lr 1e-3, batches of 16 pairs, one epoch, gradient
clipped to norm 1 over the masked entries, only masked parameters move) and every task's test
pairs scored again. Sentences: <s> w1 … wn predicting w1 … wn </s>. Pair orders come from numpy's
generator (Sonde's from SplitMix64), so T agrees up to the order of the mini-batches.
Usage: taskspace.py CHECKPOINT SPLITS.json → {"seconds", "sentences", "margin": K × K}"""
import json, sys, time
import numpy as np
import torch
import torch.nn as nn
from safetensors.torch import load_file

folder, splits_path = sys.argv[1], sys.argv[2]
torch.set_num_threads(2)
config = json.load(open(f"{folder}/config.json"))
V, H, L = config["vocab_size"], config["hidden_size"], config["num_layers"]
vocab = {w: i for i, w in enumerate(open(f"{folder}/vocab.txt").read().split("\n")[:V])}
weights = load_file(f"{folder}/model.safetensors")


class LM(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder, self.rnn, self.decoder = nn.Embedding(V, H), nn.LSTM(H, H, num_layers=L), nn.Linear(H, V)

    def logp(self, seqs):
        """Summed ln p of each word sequence (ids), time-major, padded."""
        T, B = max(len(s) for s in seqs) + 1, len(seqs)
        x = torch.zeros(T, B, dtype=torch.long)
        y = torch.full((T, B), -1, dtype=torch.long)
        for b, s in enumerate(seqs):
            x[0, b] = 1
            x[1:len(s) + 1, b] = torch.tensor(s, dtype=torch.long)
            y[:len(s), b] = torch.tensor(s, dtype=torch.long)
            y[len(s), b] = 2
        out, _ = self.rnn(self.encoder(x))
        lp = torch.log_softmax(self.decoder(out), dim=-1)
        got = lp.gather(2, y.clamp(min=0)[:, :, None])[:, :, 0] * (y >= 0)
        return got.sum(0)


model = LM()
model.load_state_dict({k: weights[k] for k in model.state_dict()})
params = list(model.parameters())
splits = json.load(open(splits_path))
ids = lambda words: [vocab.get(w, 0) for w in words]
train = [[(ids(g.split(" ")), ids(b.split(" "))) for g, b in t["train"]] for t in splits]
test = [[(ids(g.split(" ")), ids(b.split(" "))) for g, b in t["test"]] for t in splits]
K = len(splits)
sentences = 0


def margins(m, pairs):
    global sentences
    out = []
    with torch.no_grad():
        for i in range(0, len(pairs), 256):
            chunk = pairs[i:i + 256]
            lp = m.logp([s for p in chunk for s in p])
            out += (lp[0::2] - lp[1::2]).tolist()
            sentences += 2 * len(chunk)
    return out


def evaluate(m):
    return [float(np.mean(margins(m, t))) if t else 0.0 for t in test]


def delta(m, pairs):
    global sentences
    for p in m.parameters():
        p.grad = None
    for i in range(0, len(pairs), 32):
        chunk = pairs[i:i + 32]
        lp = m.logp([s for p in chunk for s in p])
        (lp[0::2] - lp[1::2]).sum().backward()
        sentences += 2 * len(chunk)
    return torch.cat([p.grad.reshape(-1) for p in m.parameters()])


start = time.time()
before = evaluate(model)
masks = []
for t in range(K):
    g = delta(model, train[t]).abs()
    k = max(1, round(0.01 * g.numel()))
    mask = torch.zeros_like(g)
    mask[torch.topk(g, k).indices] = 1
    masks.append(mask)
margin = [[0.0] * K for _ in range(K)]
for a in range(K):
    for seed in range(3):
        tuned = LM()
        tuned.load_state_dict(model.state_dict())
        optimizer = torch.optim.Adam(tuned.parameters(), lr=1e-3)
        order = np.random.default_rng(seed).permutation(len(train[a]))
        for i in range(0, len(order), 16):
            chunk = [train[a][j] for j in order[i:i + 16]]
            optimizer.zero_grad()
            lp = tuned.logp([s for p in chunk for s in p])
            (-(lp[0::2] - lp[1::2]).sum()).backward()
            sentences += 2 * len(chunk)
            flat = torch.cat([p.grad.reshape(-1) for p in tuned.parameters()]) * masks[a]
            norm = flat.norm().item()
            flat *= min(1.0, 1.0 / norm) if norm > 0 else 1.0
            offset = 0
            for p in tuned.parameters():
                n = p.numel()
                p.grad = flat[offset:offset + n].reshape(p.shape).clone()
                offset += n
            optimizer.step()
        after = evaluate(tuned)
        for b in range(K):
            margin[a][b] += (after[b] - before[b]) / 3
print(json.dumps({"seconds": time.time() - start, "sentences": sentences, "margin": margin}))
