"""A small Llama-architecture model trained on UD English-EWT like ../shared/zoo's models, with
checkpoints over training and a fine-tuned copy, for Sonde's end-to-end tests of the decoder
families; and the transformers reference values the tests compare with.

Model: LlamaForCausalLM, 2 layers, hidden 64, 4 heads with 2 key-value heads (GQA), intermediate
172, 128 positions, rope θ 10,000, tied embeddings, bos = eos = `<|endoftext|>` (0); the zoo's
byte-level BPE (vocabulary 4,096), words fed pre-split as the zoo's README says. Training: EWT
train text in 128-token rows, batch 32, AdamW lr 1e-3, seed 0, CPU; checkpoints at steps 0, 20,
60, 200, 600, 1200 (F16 weights, as the zoo's). `llama-genre`: LlamaForSequenceClassification from
step 1200, fine-tuned 1 epoch (batch 32, lr 5e-4) on the sentence's genre (its sent_id prefix).

Writes the whole series to OUTPUT (default benchmarks/.data/zoo-llama) and copies step 0, step
1200 and the genre model to Tests/Fixtures/models/zoo-llama (≈ 0.7 MB each) with reference.json:
for the first 40 EWT dev sentences, per checkpoint, every layer's word vectors (last subword) as
max |value|, sum, sum of squares and 64 sampled entries, and each sentence's log-probability after
`<|endoftext|>` (causal models), computed with transformers 5.23.0 / torch 2.13.0+cpu in float32 on
the F16 weights. Run: benchmarks/.venv/bin/python benchmarks/references/zoo_llama.py [OUTPUT]"""
import json, os, shutil, sys, time
import numpy as np
import torch
import transformers as tf
from tokenizers import Tokenizer

here = os.path.dirname(os.path.abspath(__file__))
shared = os.path.join(here, "../../../shared")
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "../.data/zoo-llama")
fixtures = os.path.join(here, "../../Tests/Fixtures/models/zoo-llama")
tok = Tokenizer.from_file(f"{shared}/zoo/tokenizer/tokenizer.json")
torch.manual_seed(0)
torch.set_num_threads(2)


def sentences(split):
    result, words, sid = [], [], None
    for line in open(f"{shared}/corpora/ud-english-ewt/en_ewt-ud-{split}.conllu", encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("# sent_id = "):
            sid = line[len("# sent_id = "):]
        elif not line:
            if words:
                result.append((sid, words))
            words = []
        elif not line.startswith("#"):
            cols = line.split("\t")
            if cols[0].isdigit():
                words.append(cols[1])
    return result


def ids(words):
    return tok.encode(words, is_pretokenized=True, add_special_tokens=False).ids


train, dev = sentences("train"), sentences("dev")
stream = [t for _, w in train for t in [0] + ids(w)]
rows = torch.tensor(stream[: len(stream) // 128 * 128]).view(-1, 128)
config = tf.LlamaConfig(
    vocab_size=4096, hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, intermediate_size=172,
    max_position_embeddings=128, rope_parameters={"rope_type": "default", "rope_theta": 10000.0}, tie_word_embeddings=True,
    bos_token_id=0, eos_token_id=0, pad_token_id=1, rms_norm_eps=1e-6)
model = tf.LlamaForCausalLM(config)
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
dev_rows = [torch.tensor([[0] + ids(w)]) for _, w in dev[:500]]


def dev_perplexity(m):
    m.eval()
    with torch.no_grad():
        total, count = 0.0, 0
        for x in dev_rows:
            logits = m(x).logits[0, :-1]
            total += torch.nn.functional.cross_entropy(logits, x[0, 1:], reduction="sum").item()
            count += x.shape[1] - 1
    m.train()
    return float(np.exp(total / count))


def save(m, name, record):
    folder = os.path.join(out, name)
    m.half().save_pretrained(folder)
    m.float()
    for f in os.listdir(folder):
        if f not in ("config.json", "model.safetensors"):
            os.remove(os.path.join(folder, f))
    json.dump(record, open(os.path.join(folder, "training.json"), "w"), indent=1)


log = {}
generator = torch.Generator().manual_seed(0)
start = time.time()
for step in range(1201):
    if step in (0, 20, 60, 200, 600, 1200):
        log[f"llama-step{step}"] = {"step": step, "dev_perplexity": dev_perplexity(model), "seconds": time.time() - start}
        save(model, f"llama-step{step}", log[f"llama-step{step}"])
        print(f"step {step}: dev perplexity {log[f'llama-step{step}']['dev_perplexity']:.1f}", flush=True)
    if step == 1200:
        break
    batch = rows[torch.randint(len(rows), (32,), generator=generator)]
    loss = model(batch, labels=batch).loss
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

# The genre classifier from step 1200.
genres = sorted({sid.split("-")[0] for sid, _ in train})
classifier = tf.LlamaForSequenceClassification.from_pretrained(
    os.path.join(out, "llama-step1200"), num_labels=len(genres), id2label=dict(enumerate(genres)),
    label2id={g: i for i, g in enumerate(genres)}, dtype=torch.float32)
classifier.config.pad_token_id = 1
optimizer = torch.optim.AdamW(classifier.parameters(), lr=5e-4)
order = torch.randperm(len(train), generator=generator).tolist()
for b in range(0, len(order), 32):
    batch = [train[i] for i in order[b:b + 32]]
    encoded = [ids(w)[:127] for _, w in batch]
    width = max(len(e) for e in encoded)
    x = torch.full((len(batch), width), 1)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for k, e in enumerate(encoded):
        x[k, :len(e)] = torch.tensor(e)
        mask[k, :len(e)] = 1
    y = torch.tensor([genres.index(sid.split("-")[0]) for sid, _ in batch])
    loss = classifier(input_ids=x, attention_mask=mask, labels=y).loss
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
classifier.eval()
with torch.no_grad():
    right = sum(int(classifier(torch.tensor([ids(w)[:127]])).logits.argmax().item() == genres.index(sid.split("-")[0])) for sid, w in dev)
log["llama-genre"] = {"dev_accuracy": right / len(dev)}
save(classifier, "llama-genre", log["llama-genre"])
json.dump(log, open(os.path.join(out, "log.json"), "w"), indent=1)
print("genre dev accuracy", right / len(dev))

# The fixtures and their references.
shutil.rmtree(fixtures, ignore_errors=True)
os.makedirs(fixtures)
# The sentences themselves stay in ../shared: the tests read the first `count` of en_ewt-ud-dev.
reference = {"count": 40, "source": "en_ewt-ud-dev.conllu, its first 40 sentences (FORM column)"}
reference_sentences = [w for _, w in dev[:40]]
torch.set_grad_enabled(False)
for name in ["llama-step0", "llama-step1200", "llama-genre"]:
    shutil.copytree(os.path.join(out, name), os.path.join(fixtures, name))
    m = (tf.LlamaForSequenceClassification if name == "llama-genre" else tf.LlamaForCausalLM).from_pretrained(
        os.path.join(out, name), dtype=torch.float32).eval()
    layers = [[] for _ in range(config.num_hidden_layers + 1)]
    log_probabilities = []
    for words in reference_sentences:
        e = tok.encode(words, is_pretokenized=True, add_special_tokens=False)
        last = {w: i for i, w in enumerate(e.word_ids)}
        o = m(torch.tensor([e.ids]), output_hidden_states=True)
        for l, h in enumerate(o.hidden_states):
            layers[l].append(h[0, [last[k] for k in range(len(words))]].numpy())
        if name != "llama-genre":
            x = torch.tensor([[0] + e.ids])
            lp = torch.log_softmax(m(x).logits[0, :-1].double(), -1)
            log_probabilities.append(float(lp[torch.arange(len(e.ids)), x[0, 1:]].sum()))
    entry = {"layers": []}
    for l in layers:
        a = np.concatenate(l).astype(np.float64)
        flat = a.reshape(-1)
        entry["layers"].append({
            "words": int(a.shape[0]), "max": float(np.abs(flat).max()), "sum": float(flat.sum()), "squares": float((flat ** 2).sum()),
            "sampled": [float(v) for v in flat[:: max(1, flat.size // 64)][:64]]})
    if log_probabilities:
        entry["logProbabilities"] = log_probabilities
    reference[name] = entry
json.dump(reference, open(os.path.join(fixtures, "reference.json"), "w"))
