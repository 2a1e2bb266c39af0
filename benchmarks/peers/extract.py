"""Peer of `sonde-bench extract`: word-aligned hidden states of every layer with transformers on
the CPU, for the sentences in --sentences (one per line, words separated by tabs). Each word's
vector is its last subword's, as Sonde's --aggregate last. Modes: `single` runs each sentence on
its own (as NeuroX's extractor does); `batched` runs padded batches of 32 with an attention mask.
Prints one JSON line: seconds (tokenising + forward + alignment), words, checksum."""
import argparse, json, time
import numpy as np
import torch
import transformers as tf
from tokenizers import Tokenizer

p = argparse.ArgumentParser()
p.add_argument("--model"); p.add_argument("--tokenizer"); p.add_argument("--sentences")
p.add_argument("--threads", type=int, default=2); p.add_argument("--mode", default="single")
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.set_grad_enabled(False)
sentences = [line.rstrip("\n").split("\t") for line in open(a.sentences, encoding="utf-8")]
tok = Tokenizer.from_file(a.tokenizer)
tok.no_padding()  # all-MiniLM-L6-v2's tokenizer.json pads every encoding to 128
tok.no_truncation()
model = tf.AutoModel.from_pretrained(a.model, dtype=torch.float32).eval()
encoder = model.config.model_type in ("bert", "roberta")
cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")


def encode(words):
    e = tok.encode(words, is_pretokenized=True, add_special_tokens=False)
    ids, word_ids = e.ids, e.word_ids
    if encoder:
        ids, word_ids = [cls] + ids + [sep], [None] + word_ids + [None]
    last = {}
    for i, w in enumerate(word_ids):
        if w is not None:
            last[w] = i
    return ids, [last[w] for w in range(len(words))]


def run(batch):
    encoded = [encode(words) for words in batch]
    width = max(len(ids) for ids, _ in encoded)
    ids = torch.zeros((len(batch), width), dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for k, (i, _) in enumerate(encoded):
        ids[k, :len(i)] = torch.tensor(i)
        mask[k, :len(i)] = 1
    states = torch.stack(model(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states)
    return [states[:, k, rows].numpy() for k, (_, rows) in enumerate(encoded)]


size = 1 if a.mode == "single" else 32
run(sentences[:4])  # warm-up
start = time.perf_counter()
checksum, words = 0.0, 0
for i in range(0, len(sentences), size):
    for vectors in run(sentences[i:i + size]):
        checksum += float(vectors[-1].sum(dtype=np.float64))
        words += vectors.shape[1]
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "words": words, "checksum": checksum}))
