"""Reference scores for SondeModelsTests: the zoo models' own loss on the 25 reference sentences
(../shared/zoo/reference/sentences.tsv), computed with transformers 5.23.0 / torch 2.13.0+cpu.
Each sentence runs on its own, words encoded pre-split as the zoo's README says. GPT-2/GPT-NeoX:
next-token cross-entropy summed over every token but the first of each sentence, divided by
their count. Classifiers: cross-entropy and accuracy of the genre (sent_id prefix) per sentence.
Run: benchmarks/.venv/bin/python benchmarks/references/zoo_scores.py"""
import os, torch
import transformers as tf
from tokenizers import Tokenizer

zoo = os.path.join(os.path.dirname(__file__), "../../../shared/zoo")
tok = Tokenizer.from_file(f"{zoo}/tokenizer/tokenizer.json")
rows = [l.rstrip("\n").split("\t") for l in open(f"{zoo}/reference/sentences.tsv")]
sentences = [r[1].split(" ") for r in rows]
genres = [r[0].split("-")[0] for r in rows]

def ids(words, special=False):
    out = tok.encode(words, is_pretokenized=True, add_special_tokens=False).ids
    return [2] + out + [3] if special else out

torch.set_grad_enabled(False)
for name in ["gpt-step1200", "neox-step1200"]:
    model = tf.AutoModelForCausalLM.from_pretrained(f"{zoo}/{name}", dtype=torch.float32).eval()
    total, count = 0.0, 0
    for words in sentences:
        x = torch.tensor([ids(words)])
        logits = model(x).logits[0, :-1]
        total += torch.nn.functional.cross_entropy(logits, x[0, 1:], reduction="sum").item()
        count += x.shape[1] - 1
    print(f"{name}: next-token loss {total / count:.6f} over {count} predictions")
for name, special in [("gpt-genre", False), ("bert-genre", True)]:
    model = tf.AutoModelForSequenceClassification.from_pretrained(f"{zoo}/{name}", dtype=torch.float32).eval()
    labels = [model.config.label2id[g] for g in genres]
    total, correct = 0.0, 0
    for words, label in zip(sentences, labels):
        logits = model(torch.tensor([ids(words, special)])).logits[0]
        total += torch.nn.functional.cross_entropy(logits[None], torch.tensor([label])).item()
        correct += int(logits.argmax().item() == label)
    print(f"{name}: classification loss {total / len(labels):.6f}, accuracy {correct}/{len(labels)}")
