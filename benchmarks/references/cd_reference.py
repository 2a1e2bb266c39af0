"""Reference values for SondeModelsTests/ContextualDecompositionTests.matchesAnIndependentImplementation:
contextual decomposition (Murdoch, Liu & Yu 2018) written again in PyTorch, position by
position as in Murdoch's code (train_model/sent_util.py: the gates' Shapley split over relevant,
irrelevant and bias, the output gate whole, tanh split in two), except that bias x bias goes to
the irrelevant part everywhere (as Sonde documents), on an nn.LSTM whose weights come from a
formula both sides compute: parameter k of the flat layout (encoder.weight, rnn.weight_ih_l0,
rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0, ... l1 ..., decoder.weight, decoder.bias) is
0.5*sin(0.37*k + 0.1), embeddings x3. Three EWT dev sentences, read as <s> w1 ... wn; for each
(sentence, span of word indices, layer) it prints the sum of beta_h over positions and neurons,
the sum of its squares and beta_h at the last position's neuron 0; and checks beta + gamma = h of
nn.LSTM itself. Run: python3 benchmarks/references/cd_reference.py (torch 2.13, float32)."""
import math
import torch
import torch.nn as nn

torch.set_default_dtype(torch.float32)
sentences = [
    ["From", "the", "AP", "comes", "this", "story", ":"],
    ["A", "la", "guerre", "c'est", "comme", "a", "la", "guerre", "!"],
    ["In", "Ramadi", ",", "there", "was", "a", "big", "demonstration", "."],
]
words = ["<unk>", "<s>", "</s>"]
for s in sentences:
    for w in s:
        if w not in words:
            words.append(w)
V, H, L = len(words), 8, 2
emb, rnn, dec = nn.Embedding(V, H), nn.LSTM(H, H, num_layers=L), nn.Linear(H, V)
params = [emb.weight] + [getattr(rnn, f"{n}_l{k}") for k in range(L) for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
params += [dec.weight, dec.bias]
offset = 0
with torch.no_grad():
    for p in params:
        n = p.numel()
        p.copy_(torch.tensor([0.5 * math.sin(0.37 * (offset + i) + 0.1) for i in range(n)], dtype=torch.float64).float().reshape(p.shape))
        offset += n
    emb.weight.mul_(3)


def three(a, b, c, f):
    """The Shapley split of f(a + b + c) over relevant a, irrelevant b and bias c."""
    return 0.5 * (f(a + c) - f(c) + f(a + b + c) - f(b + c)), 0.5 * (f(b + c) - f(c) + f(a + b + c) - f(a + c)), f(c)


def decompose_layer(k, rel_x, irr_x):
    W_i, W_f, W_g, W_o = getattr(rnn, f"weight_ih_l{k}").detach().chunk(4)
    V_i, V_f, V_g, V_o = getattr(rnn, f"weight_hh_l{k}").detach().chunk(4)
    b = (getattr(rnn, f"bias_ih_l{k}") + getattr(rnn, f"bias_hh_l{k}")).detach()
    b_i, b_f, b_g, b_o = b.chunk(4)
    T = rel_x.shape[0]
    rel_c, irr_c, rel_h, irr_h = (torch.zeros(T, H) for _ in range(4))
    for t in range(T):
        prev_rel = rel_h[t - 1] if t > 0 else torch.zeros(H)
        prev_irr = irr_h[t - 1] if t > 0 else torch.zeros(H)
        ri, ii = W_i @ rel_x[t] + V_i @ prev_rel, W_i @ irr_x[t] + V_i @ prev_irr
        rf, if_ = W_f @ rel_x[t] + V_f @ prev_rel, W_f @ irr_x[t] + V_f @ prev_irr
        rg, ig = W_g @ rel_x[t] + V_g @ prev_rel, W_g @ irr_x[t] + V_g @ prev_irr
        ro, io = W_o @ rel_x[t] + V_o @ prev_rel, W_o @ irr_x[t] + V_o @ prev_irr
        ci_r, ci_s, ci_b = three(ri, ii, b_i, torch.sigmoid)
        cg_r, cg_s, cg_b = three(rg, ig, b_g, torch.tanh)
        rel = ci_r * (cg_r + cg_b) + ci_b * cg_r
        irr = ci_s * (cg_r + cg_s + cg_b) + (ci_r + ci_b) * cg_s + ci_b * cg_b
        if t > 0:
            cf_r, cf_s, cf_b = three(rf, if_, b_f, torch.sigmoid)
            rel = rel + (cf_r + cf_b) * rel_c[t - 1]
            irr = irr + (cf_r + cf_s + cf_b) * irr_c[t - 1] + cf_s * rel_c[t - 1]
        rel_c[t], irr_c[t] = rel, irr
        o = torch.sigmoid(ro + io + b_o)
        whole = torch.tanh(rel + irr)
        rel_h[t] = o * 0.5 * (torch.tanh(rel) + whole - torch.tanh(irr))
        irr_h[t] = o * 0.5 * (torch.tanh(irr) + whole - torch.tanh(rel))
    return rel_h, irr_h


spans = {0: [[0], [2, 3], list(range(7))], 1: [[1], [1, 6], [3, 4, 5]], 2: [[7], [0, 8], [2]]}
with torch.no_grad():
    for s, sentence in enumerate(sentences):
        ids = torch.tensor([1] + [words.index(w) for w in sentence])
        x = emb(ids)
        out, _ = rnn(x[:, None, :])
        states = [out[:, 0, :]]

        for span in spans[s]:
            inside = torch.tensor([1.0 if (t - 1) in span else 0.0 for t in range(len(ids))])[:, None]
            rel_x, irr_x = x * inside, x * (1 - inside)
            for k in range(L):
                rel_h, irr_h = decompose_layer(k, rel_x, irr_x)
                if k == L - 1:
                    assert torch.allclose(rel_h + irr_h, states[0], atol=1e-5), "beta + gamma != h"
                print(f"({s}, {span}, {k + 1}, {rel_h.double().sum().item():.9g}, {(rel_h.double() ** 2).sum().item():.9g}, {rel_h[-1, 0].item():.9g}),")
                rel_x, irr_x = rel_h, irr_h
