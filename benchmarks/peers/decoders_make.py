"""Writes randomly initialised decoder checkpoints of real shapes for `sonde-bench decoders`
(F32 safetensors, transformers 5.23): a 12-layer 768-wide Llama with grouped-query attention
(12 heads, 4 key-value heads, intermediate 2,048, vocabulary 32,000) and the Qwen2.5-0.5B shape
(24 × 896, 14 heads, 2 key-value heads, intermediate 4,864, vocabulary 151,936, tied embeddings).
Usage: decoders_make.py OUTPUT_FOLDER"""
import os, sys
import torch
import transformers as tf

out = sys.argv[1]
torch.manual_seed(0)
shapes = {
    "llama-12x768-gqa": tf.LlamaConfig(
        vocab_size=32000, hidden_size=768, num_hidden_layers=12, num_attention_heads=12, num_key_value_heads=4,
        intermediate_size=2048, max_position_embeddings=2048, bos_token_id=1, eos_token_id=2, tie_word_embeddings=False),
    "qwen2.5-0.5b-shape": tf.Qwen2Config(
        vocab_size=151936, hidden_size=896, num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2,
        intermediate_size=4864, max_position_embeddings=32768, tie_word_embeddings=True, rms_norm_eps=1e-6,
        rope_parameters={"rope_type": "default", "rope_theta": 1000000.0}, bos_token_id=151643, eos_token_id=151643),
}
for name, config in shapes.items():
    folder = os.path.join(out, name)
    if os.path.exists(os.path.join(folder, "model.safetensors")):
        continue
    model = tf.AutoModelForCausalLM.from_config(config).eval()
    model.save_pretrained(folder, max_shard_size="10GB")
    for f in os.listdir(folder):
        if f not in ("config.json", "model.safetensors"):
            os.remove(os.path.join(folder, f))
import json; print(json.dumps({"folder": out}))
