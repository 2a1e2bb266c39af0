"""Peer for the pairs-blimp suite: every BLiMP pair's margin ln p(good) − ln p(bad) under a zoo
causal LM with transformers (float32, 2 threads), each sentence's text encoded whole after
<|endoftext|> (id 0) as Sonde scores it; sentences batched by length (right padding, so absolute
positions are unchanged). Prints {"margins": [...], "seconds": s} with the pairs in BLiMP's file
order (paradigms sorted by name). Usage: blimp_scores.py SHARED MODEL"""
import json, os, sys, time
import torch
import transformers as tf
from tokenizers import Tokenizer

shared, name = sys.argv[1], sys.argv[2]
torch.set_num_threads(2)
torch.set_grad_enabled(False)
tok = Tokenizer.from_file(f"{shared}/zoo/tokenizer/tokenizer.json")
model = tf.AutoModelForCausalLM.from_pretrained(f"{shared}/zoo/{name}", dtype=torch.float32).eval()
data = f"{shared}/corpora/blimp/data"
texts = []
for file in sorted(os.listdir(data)):
    for line in open(f"{data}/{file}"):
        if line.strip():
            d = json.loads(line)
            texts += [d["sentence_good"], d["sentence_bad"]]
start = time.time()
ids = [[0] + e.ids for e in tok.encode_batch(texts, add_special_tokens=False)]
logp = [0.0] * len(ids)
order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
for b in range(0, len(order), 256):
    chunk = order[b:b + 256]
    width = max(len(ids[i]) for i in chunk)
    x = torch.tensor([ids[i] + [0] * (width - len(ids[i])) for i in chunk])
    mask = torch.tensor([[1] * len(ids[i]) + [0] * (width - len(ids[i])) for i in chunk])
    out = torch.log_softmax(model(x, attention_mask=mask).logits[:, :-1].double(), dim=-1)
    got = out.gather(2, x[:, 1:, None])[:, :, 0] * mask[:, 1:]
    for row, i in enumerate(chunk):
        logp[i] = got[row].sum().item()
seconds = time.time() - start
print(json.dumps({"margins": [logp[2 * k] - logp[2 * k + 1] for k in range(len(texts) // 2)], "seconds": seconds}))
