"""Reference sentence log-probabilities for SondeModelsTests (minimal pairs): the first two pairs of
each of the first 25 BLiMP paradigms in name order (50 pairs, 100 sentences), under the zoo's
gpt-step1200 and neox-step1200, computed with transformers 5.23.0 / torch 2.13.0+cpu in float32.
A sentence's text is encoded whole (the zoo tokenizer adds the prefix space), after the start token
<|endoftext|> (id 0); its log-probability is the sum of ln p(token | the tokens before) over every
token of the text. Also the gradient of Σ [ln p(good) − ln p(bad)] over the first 5 pairs with
respect to the output (unembedding) matrix alone — logits = h·Wᵀ with W a separate leaf, so a tied
embedding's input use is not included — as its norm, its sum of |·| and every 8192nd entry of the
row-major [vocabulary × hidden] matrix. Writes Tests/Fixtures/pairs/blimp-50.json.
Run: benchmarks/.venv/bin/python benchmarks/references/pairs_reference.py"""
import json, os, torch
import transformers as tf
from tokenizers import Tokenizer

here = os.path.dirname(os.path.abspath(__file__))
shared = os.path.join(here, "../../../shared")
tok = Tokenizer.from_file(f"{shared}/zoo/tokenizer/tokenizer.json")
data = f"{shared}/corpora/blimp/data"
pairs = []
for name in sorted(os.listdir(data))[:25]:
    lines = open(f"{data}/{name}").read().splitlines()[:2]
    for line in lines:
        d = json.loads(line)
        pairs.append({"task": d["UID"], "good": d["sentence_good"], "bad": d["sentence_bad"]})

torch.set_grad_enabled(False)
out = {"pairs": pairs}
for model_name in ["gpt-step1200", "neox-step1200"]:
    model = tf.AutoModelForCausalLM.from_pretrained(f"{shared}/zoo/{model_name}", dtype=torch.float32).eval()
    def logp(text):
        ids = [0] + tok.encode(text, add_special_tokens=False).ids
        x = torch.tensor([ids])
        logits = model(x).logits[0, :-1].double()
        return torch.log_softmax(logits, -1).gather(1, x[0, 1:, None]).sum().item()
    out[model_name] = [[logp(p["good"]), logp(p["bad"])] for p in pairs]
    head = model.get_output_embeddings().weight.detach().clone().requires_grad_(True)
    total = 0
    with torch.enable_grad():
        for p in pairs[:5]:
            for text, sign in ((p["good"], 1.0), (p["bad"], -1.0)):
                ids = [0] + tok.encode(text, add_special_tokens=False).ids
                x = torch.tensor([ids])
                h = model(x, output_hidden_states=True).hidden_states[-1][0, :-1].detach()
                lp = torch.log_softmax(h @ head.T, -1).gather(1, x[0, 1:, None]).sum()
                total = total + sign * lp
        total.backward()
    g = head.grad.double().reshape(-1)
    out[model_name + ":unembedding"] = {"norm": g.norm().item(), "abs": g.abs().sum().item(), "entries": g[::8192].tolist()}
with open(os.path.join(here, "../../Tests/Fixtures/pairs/blimp-50.json"), "w") as f:
    json.dump(out, f, indent=1)
print("wrote", len(pairs), "pairs")
