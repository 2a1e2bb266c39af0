"""Peer of `sonde-bench lstm`: the same word-level LSTM language model in PyTorch on the CPU —
embedding → L × nn.LSTM → linear decoder, Adam, batches of B sequences of T tokens, the same
thread count. Training: forward, cross-entropy over every position, backward, clip, step.
Extraction: every layer's hidden states (one single-layer nn.LSTM per layer, so each layer's
states are returned, as an extractor needs), no gradients. Prints one JSON line of tokens/s."""
import argparse, json, time
import numpy as np
import torch
import torch.nn as nn

p = argparse.ArgumentParser()
p.add_argument("--vocab", type=int, default=10000); p.add_argument("--hidden", type=int, default=256)
p.add_argument("--layers", type=int, default=2); p.add_argument("--batch", type=int, default=32)
p.add_argument("--length", type=int, default=35); p.add_argument("--steps", type=int, default=20)
p.add_argument("--threads", type=int, default=2)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(1)
rng = np.random.default_rng(1)


class LM(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Embedding(a.vocab, a.hidden)
        self.rnns = nn.ModuleList([nn.LSTM(a.hidden, a.hidden) for _ in range(a.layers)])
        self.decoder = nn.Linear(a.hidden, a.vocab)

    def forward(self, ids):
        x = self.encoder(ids)
        states = [x]
        for rnn in self.rnns:
            x, _ = rnn(x)
            states.append(x)
        return self.decoder(x), states


model = LM()
optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
batches = [torch.from_numpy(rng.integers(3, a.vocab, size=(a.length + 1, a.batch))) for _ in range(a.steps + 2)]


def train_step(ids):
    optimizer.zero_grad()
    logits, _ = model(ids[:-1])
    loss = nn.functional.cross_entropy(logits.reshape(-1, a.vocab), ids[1:].reshape(-1))
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()


for ids in batches[:2]:
    train_step(ids)
start = time.perf_counter()
for ids in batches[2:]:
    train_step(ids)
train_seconds = time.perf_counter() - start

with torch.no_grad():
    _ = model(batches[0][:-1])
    start = time.perf_counter()
    total = 0.0
    for ids in batches[2:]:
        x = model.encoder(ids[:-1])
        states = [x.numpy()]
        for rnn in model.rnns:
            x, _ = rnn(x)
            states.append(x.numpy())
        total += float(states[-1][0, 0, 0])
    extract_seconds = time.perf_counter() - start
tokens = a.steps * a.batch * a.length
print(json.dumps({"train_tokens_per_s": tokens / train_seconds, "extract_tokens_per_s": tokens / extract_seconds, "torch": torch.__version__}))
