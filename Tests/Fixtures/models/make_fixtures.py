"""Writes the model and tokenizer fixtures of SondeModelsTests, with the outputs of the reference
implementations (transformers 5.23.0, tokenizers 0.23.3, torch 2.13.0+cpu) beside them.

Run from this folder with benchmarks/.venv's Python: `../../../benchmarks/.venv/bin/python make_fixtures.py`.

- Tiny random models (vocabulary 64, hidden 16, 2 layers) covering what the zoo does not:
  GPT-NeoX with Pythia's legacy `rotary_pct`/`rotary_emb_base` keys and sequential residuals,
  RoBERTa in shards (`model.safetensors.index.json`), BERT with a classification head in BF16,
  GPT-2 with `scale_attn_by_inverse_layer_idx`. `reference.npz` holds, per sequence k, the ids
  (`ids<k>`), every hidden state (`hidden<k>`, [layers + 1, tokens, hidden]) and the head's
  logits (`logits<k>`).
- The decoder families (`llama-*`, `mistral-window`, `qwen2-dynamic`, `qwen3-qknorm`, `olmo2`,
  `gemma2-bf16`): vocabulary 64, hidden 16, 2 layers, every option of their forward passes once
  (see the comment above them); the Llama, Mistral, Qwen2, Qwen3 and OLMo-2 ones also in BF16
  (`<name>-bf16`).
- `wordpiece/tokenizer.json`: a small WordPiece tokenizer (BertNormalizer + BertPreTokenizer)
  trained on corpora/default.conllu (as generated before the topic vocabularies, commit 4c06062;
  a rerun trains it on today's, equally valid); `wordpiece/encodings.json` and `zoo-encodings.json` (the
  zoo's byte-level BPE on EWT test forms) hold [word, ids] pairs as tokenizers encodes words
  given pre-split (`is_pretokenized=True`, no special tokens).
"""
import copy, json, os, shutil
import numpy as np
import torch
import transformers as tf
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

torch.manual_seed(2026)
rng = np.random.default_rng(2026)
SEQUENCES = [rng.integers(5, 64, size=n).tolist() for n in (5, 9, 13)]


def save(name, model, edit_config=None, **save_args):
    shutil.rmtree(name, ignore_errors=True)
    model.eval()
    model.save_pretrained(name, **save_args)
    for f in os.listdir(name):
        if f not in ("config.json", "model.safetensors", "model.safetensors.index.json") and not f.startswith("model-"):
            os.remove(os.path.join(name, f))
    if edit_config:
        path = os.path.join(name, "config.json")
        config = json.load(open(path))
        edit_config(config)
        json.dump(config, open(path, "w"), indent=2, sort_keys=True)
    reference = model.float() if save_args.get("dtype") is None else model
    arrays = {}
    with torch.no_grad():
        for k, ids in enumerate(SEQUENCES):
            out = reference(torch.tensor([ids]), output_hidden_states=True)
            arrays[f"ids{k}"] = np.array(ids, dtype=np.int64)
            arrays[f"hidden{k}"] = torch.stack(out.hidden_states)[:, 0].numpy().astype(np.float32)
            arrays[f"logits{k}"] = out.logits[0].numpy().astype(np.float32)
    np.savez(os.path.join(name, "reference.npz"), **arrays)


small = dict(vocab_size=64, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32)

# GPT-NeoX as Pythia's own configs spell it: rotary_pct / rotary_emb_base, sequential residuals.
neox = tf.GPTNeoXForCausalLM(tf.GPTNeoXConfig(
    **small, max_position_embeddings=32, use_parallel_residual=False, hidden_act="gelu",
    rope_parameters={"rope_type": "default", "rope_theta": 500.0, "partial_rotary_factor": 0.5}))
def legacy_rotary(config):
    config.pop("rope_parameters", None)
    config.update(rotary_pct=0.5, rotary_emb_base=500)
save("neox-legacy", neox, legacy_rotary)

# RoBERTa: positions from pad_token_id + 1, saved in shards.
roberta = tf.RobertaForMaskedLM(tf.RobertaConfig(**small, max_position_embeddings=34, pad_token_id=1, type_vocab_size=1))
save("roberta-sharded", roberta, max_shard_size="8KB")

# BERT with a sequence-classification head, weights in BF16 (the reference upcasts them).
bert = tf.BertForSequenceClassification(tf.BertConfig(**small, max_position_embeddings=32, num_labels=3))
bert = bert.to(torch.bfloat16).float()  # round the weights to BF16 first, so both sides see the same values
bert.to(torch.bfloat16).save_pretrained("tmp-bf16")
save("bert-bf16", bert)
shutil.copy("tmp-bf16/model.safetensors", "bert-bf16/model.safetensors")
shutil.rmtree("tmp-bf16")

# GPT-2 with attention scores also divided by the layer number.
gpt = tf.GPT2LMHeadModel(tf.GPT2Config(vocab_size=64, n_embd=16, n_layer=2, n_head=2, n_positions=32, scale_attn_by_inverse_layer_idx=True))
save("gpt2-inverse-scale", gpt)

# The decoder families of 2026 (Llama, Mistral, Qwen2, Qwen3, OLMo-2, Gemma-2): every option once —
# grouped-query attention, head_dim ≠ hidden/heads, each rope scaling, biases, q/k norms, soft-capping,
# sliding windows shorter than the sequences, tied and untied embeddings, BF16, the older config keys.
# Weights are redrawn (matrices N(0, 0.3²), norm weights and biases far from 1 and 0) so that every
# term moves the outputs.
def redraw(model):
    generator = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1 + 0.5 * torch.randn(p.shape, generator=generator))
            elif name.endswith("bias"):
                p.copy_(0.5 * torch.randn(p.shape, generator=generator))
            else:
                p.copy_(0.3 * torch.randn(p.shape, generator=generator))
    return model

decoder = dict(vocab_size=64, hidden_size=16, num_hidden_layers=2, intermediate_size=24, max_position_embeddings=32)

def legacy_rope(config):  # rope_scaling + a top-level rope_theta, as checkpoints saved before transformers 5 say it
    rope = config.pop("rope_parameters")
    config["rope_theta"] = rope.pop("rope_theta")
    if rope.get("rope_type", "default") != "default":
        config["rope_scaling"] = rope

llama = tf.LlamaForCausalLM(tf.LlamaConfig(
    **decoder, num_attention_heads=4, num_key_value_heads=2, head_dim=8, attention_bias=True, mlp_bias=True,
    rms_norm_eps=1e-5, tie_word_embeddings=False,
    rope_parameters={"rope_type": "llama3", "rope_theta": 500.0, "factor": 8.0, "low_freq_factor": 1.0,
                     "high_freq_factor": 4.0, "original_max_position_embeddings": 16}))
save("llama-gqa-llama3", redraw(llama))

yarn = tf.LlamaForCausalLM(tf.LlamaConfig(
    **decoder, num_attention_heads=2, num_key_value_heads=2, rms_norm_eps=1e-6, tie_word_embeddings=True,
    rope_parameters={"rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0, "original_max_position_embeddings": 8}))
save("llama-yarn-tied-legacy", redraw(yarn), legacy_rope)

mistral = tf.MistralForCausalLM(tf.MistralConfig(
    **decoder, num_attention_heads=4, num_key_value_heads=1, sliding_window=4, rms_norm_eps=1e-5,
    rope_parameters={"rope_type": "linear", "rope_theta": 1000.0, "factor": 2.0}))
save("mistral-window", redraw(mistral))

qwen2 = tf.Qwen2ForCausalLM(tf.Qwen2Config(
    **decoder, num_attention_heads=2, num_key_value_heads=1, tie_word_embeddings=True, rms_norm_eps=1e-6,
    rope_parameters={"rope_type": "dynamic", "rope_theta": 10000.0, "factor": 2.0}))
save("qwen2-dynamic", redraw(qwen2))

qwen3 = tf.Qwen3ForCausalLM(tf.Qwen3Config(
    **decoder, num_attention_heads=2, num_key_value_heads=1, head_dim=8, rms_norm_eps=1e-6, tie_word_embeddings=False,
    use_sliding_window=True, sliding_window=3, max_window_layers=1))
save("qwen3-qknorm", redraw(qwen3))

olmo2 = tf.Olmo2ForCausalLM(tf.Olmo2Config(**decoder, num_attention_heads=4, num_key_value_heads=2, rms_norm_eps=1e-6))
save("olmo2", redraw(olmo2))

gemma2 = tf.Gemma2ForCausalLM(tf.Gemma2Config(
    **decoder, num_attention_heads=4, num_key_value_heads=2, head_dim=8, query_pre_attn_scalar=12,
    attn_logit_softcapping=2.0, final_logit_softcapping=3.0, sliding_window=4, hidden_activation="gelu_pytorch_tanh",
    rms_norm_eps=1e-6, attn_implementation="eager"))
gemma2 = redraw(gemma2)
with torch.no_grad():
    for name, p in gemma2.named_parameters():
        if "norm" in name:
            p.sub_(1)  # Gemma's RMSNorm multiplies by 1 + w
with torch.no_grad():  # round the weights to BF16; the rotary buffers stay in float32, as loading makes them
    for p in gemma2.parameters():
        p.copy_(p.to(torch.bfloat16).float())
copy.deepcopy(gemma2).to(torch.bfloat16).save_pretrained("tmp-bf16")  # Module.to converts in place
save("gemma2-bf16", gemma2)
shutil.copy("tmp-bf16/model.safetensors", "gemma2-bf16/model.safetensors")
shutil.rmtree("tmp-bf16")

# The same decoders in BF16 (weights rounded first, so the reference sees the stored values;
# the rotary buffers stay float32, as loading makes them).
for name, model in [("llama-gqa-llama3", llama), ("mistral-window", mistral), ("qwen2-dynamic", qwen2), ("qwen3-qknorm", qwen3), ("olmo2", olmo2)]:
    rounded = copy.deepcopy(model)
    with torch.no_grad():
        for p in rounded.parameters():
            p.copy_(p.to(torch.bfloat16).float())
    copy.deepcopy(rounded).to(torch.bfloat16).save_pretrained("tmp-bf16")
    save(name + "-bf16", rounded)
    shutil.copy("tmp-bf16/model.safetensors", name + "-bf16/model.safetensors")
    shutil.rmtree("tmp-bf16")

# Tokenizers.
def forms(path, limit=None):
    seen = []
    for line in open(path, encoding="utf-8"):
        parts = line.rstrip("\n").split("\t")
        if len(parts) == 10 and parts[0].isdigit() and parts[1] not in seen:
            seen.append(parts[1])
            if limit and len(seen) >= limit:
                break
    return seen

TRICKY = ["naïve", "Straße", "CAFÉ", "日本語", "Ωmega", "don't", "'s", "'ll", "e-mail", "U.S.", "$5.00", "🙂", "a\u200bb",
          "\u0301", "ﬁne", "x" * 120, "tab\there", "…", "Ⅻ", "１２３", "'", "''", "`", "--", "C++", "3.14", "\u00a0"]

os.makedirs("wordpiece", exist_ok=True)
wp = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=100))
wp.normalizer = normalizers.BertNormalizer(lowercase=True)
wp.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
trainer = trainers.WordPieceTrainer(vocab_size=400, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
default_words = forms("../../../corpora/default.conllu")
wp.train_from_iterator([" ".join(default_words[i:i + 20]) for i in range(0, len(default_words), 20)] + TRICKY, trainer)
wp.save("wordpiece/tokenizer.json")
words = default_words[:300] + TRICKY
json.dump([[w, wp.encode([w], is_pretokenized=True, add_special_tokens=False).ids] for w in words],
          open("wordpiece/encodings.json", "w"), ensure_ascii=False)

zoo = Tokenizer.from_file("../../../../shared/zoo/tokenizer/tokenizer.json")
words = forms("../../../../shared/corpora/ud-english-ewt/en_ewt-ud-test.conllu") + TRICKY
json.dump([[w, zoo.encode([w], is_pretokenized=True, add_special_tokens=False).ids] for w in words],
          open("zoo-encodings.json", "w"), ensure_ascii=False)
