"""Peer of `sonde lm train` for the dev-perplexity comparison (BENCHMARKS.md): the same model,
data and schedule in PyTorch. Words from a CoNLL-U file (FORM of the word lines); sentences split
as Sonde splits them (of every five, the first three train, the fourth dev); vocabulary = <unk>,
<s>, </s> and the words seen at least --min-count times, most frequent first, at most
--max-vocabulary; sentences of at most --max-length words (longer ones cut into pieces read from
a zero state); batches of --batch sentences in a seeded random order, padded (targets ignored);
Adam (lr 2e-3), global-norm clipping 1.0, dropout 0.2 on the embeddings and between and after the
LSTM layers; initialisation U(−0.1, 0.1) for the embedding and decoder, PyTorch's default for the
LSTM. Prints one JSON line: dev perplexity, seconds, tokens/s."""
import argparse, json, math, random, time
from collections import Counter
import torch
import torch.nn as nn

p = argparse.ArgumentParser()
p.add_argument("conllu"); p.add_argument("--steps", type=int, default=512)
p.add_argument("--hidden", type=int, default=256); p.add_argument("--layers", type=int, default=2)
p.add_argument("--batch", type=int, default=32); p.add_argument("--max-length", type=int, default=48)
p.add_argument("--min-count", type=int, default=2); p.add_argument("--max-vocabulary", type=int, default=10000)
p.add_argument("--threads", type=int, default=2); p.add_argument("--seed", type=int, default=1)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)
random.seed(a.seed)

sentences, words = [], []
for line in open(a.conllu, encoding="utf-8"):
    line = line.rstrip("\n")
    if not line:
        if words: sentences.append(words)
        words = []
    elif not line.startswith("#"):
        cols = line.split("\t")
        if cols[0].isdigit(): words.append(cols[1])
if words: sentences.append(words)
train = [s for i, s in enumerate(sentences) if i % 5 < 3]
dev = [s for i, s in enumerate(sentences) if i % 5 == 3]
counts = Counter(w for s in train for w in s)
order = {}
for s in train:
    for w in s: order.setdefault(w, len(order))
kept = sorted((w for w in counts if counts[w] >= a.min_count and w not in ("<unk>", "<s>", "</s>")), key=lambda w: (-counts[w], order[w]))
vocab = ["<unk>", "<s>", "</s>"] + kept[: a.max_vocabulary - 3]
index = {w: i for i, w in enumerate(vocab)}
pieces = []
for s in train:
    for start in range(0, max(len(s), 1), a.max_length):
        pieces.append((s[start:start + a.max_length], start + a.max_length >= len(s)))


class LM(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Embedding(len(vocab), a.hidden)
        self.rnn = nn.LSTM(a.hidden, a.hidden, num_layers=a.layers, dropout=0.2)
        self.decoder = nn.Linear(a.hidden, len(vocab))
        self.drop = nn.Dropout(0.2)
        nn.init.uniform_(self.encoder.weight, -0.1, 0.1); nn.init.uniform_(self.decoder.weight, -0.1, 0.1); nn.init.zeros_(self.decoder.bias)

    def forward(self, ids):
        out, _ = self.rnn(self.drop(self.encoder(ids)))
        return self.decoder(self.drop(out))


def batch(items):
    T = max(len(w) for w, _ in items) + 1
    ids = torch.zeros(T, len(items), dtype=torch.long); targets = torch.full((T, len(items)), -1, dtype=torch.long)
    for b, (w, last) in enumerate(items):
        ids[0, b] = 1
        for i, word in enumerate(w): ids[i + 1, b] = index.get(word, 0); targets[i, b] = index.get(word, 0)
        if last: targets[len(w), b] = 2
    return ids, targets


model = LM()
optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
stream, tokens = [], 0
start = time.perf_counter()
for step in range(a.steps):
    while len(stream) < a.batch:
        epoch = pieces[:]; random.shuffle(epoch); stream += epoch
    chosen, stream = stream[: a.batch], stream[a.batch:]
    ids, targets = batch(chosen)
    model.train(); optimizer.zero_grad()
    logits = model(ids)
    loss = nn.functional.cross_entropy(logits.reshape(-1, len(vocab)), targets.reshape(-1), ignore_index=-1)
    loss.backward(); torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0); optimizer.step()
    tokens += int((targets >= 0).sum())
seconds = time.perf_counter() - start
model.eval(); total, count = 0.0, 0
with torch.no_grad():
    for i in range(0, len(dev), 64):
        ids, targets = batch([(s, True) for s in dev[i:i + 64]])
        logits = model(ids)
        total += nn.functional.cross_entropy(logits.reshape(-1, len(vocab)), targets.reshape(-1), ignore_index=-1, reduction="sum").item()
        count += int((targets >= 0).sum())
print(json.dumps({"dev_perplexity": math.exp(total / count), "seconds": seconds, "tokens_per_s": tokens / seconds, "vocabulary": len(vocab)}))
