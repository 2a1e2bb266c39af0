"""Tokenizers in the styles of 2026's model families, trained here with the `tokenizers` library
(0.23.3) on UD English-EWT train, and the ids `tokenizers` gives, for SondeModelsTests.

Styles (Tests/Fixtures/tokenizers/<style>/tokenizer.json, vocabulary 1,000 + specials):
- `llama3`: byte-level BPE, Split(Llama-3's regex, isolated) + ByteLevel(no prefix space, no
  regex), ignore_merges, BOS `<|begin_of_text|>` by TemplateProcessing.
- `qwen2`: NFC, Split(Qwen2's regex), ByteLevel; no BOS; `<|endoftext|>` an added token.
- `llama2`: SentencePiece-converted BPE with byte_fallback and fuse_unk, Prepend("▁") +
  Replace(" ", "▁") normalizers, no pre-tokenizer, BOS `<s>`.
- `gemma`: Replace(" ", "▁") only, byte_fallback, BOS `<bos>`.
- `mistral`: Metaspace(prepend_scheme first, no split), byte_fallback, BOS `<s>`.
- `splits`: every Split behaviour (removed, merged_with_previous, merged_with_next, contiguous,
  isolated with invert) and Digits, after NFKC, Lowercase and Strip. The Qwen2 style also holds
  added tokens with lstrip, rstrip, single_word and normalized.

`expected.json` per style: `crafted` ([line, ids]) for awkward lines, and `dev` — for every sentence
of en_ewt-ud-dev.conllu (its `# text` line, in order) FNV-1a (64-bit) over the ids' decimal
strings joined by spaces, and the total number of ids (the sentences stay in ../shared).
Run: benchmarks/.venv/bin/python benchmarks/references/tokenizer_styles.py"""
import json, os
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

here = os.path.dirname(os.path.abspath(__file__))
shared = os.path.join(here, "../../../shared")
out = os.path.join(here, "../../Tests/Fixtures/tokenizers")


def texts(split):
    return [l[len("# text = "):].rstrip("\n") for l in open(f"{shared}/corpora/ud-english-ewt/en_ewt-ud-{split}.conllu", encoding="utf-8")
            if l.startswith("# text = ")]


train, dev = texts("train"), texts("dev")
LLAMA3 = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
QWEN2 = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
BYTES = [f"<0x{b:02X}>" for b in range(256)]
CRAFTED = [
    "Hello world", "  leading and double  spaces ", "tab\there", "trailing space ", "don't can't I'll we've they'RE",
    "digits 1234567 and 3.14159", "emoji 🙂🚀 here", "日本語のテキスト", "العربية نص", "naïve café", "nai\u0308ve cafe\u0301",
    "Straße ΣΊΣΥΦΟΣ", "e-mail U.S.A. $5.00 C++", "line\nbreak", "", " ", "<|endoftext|> after special", "ﬁne ＡＢＣ １２３",
]


def fnv(ids):
    h = 0xcbf29ce484222325
    for byte in " ".join(map(str, ids)).encode():
        h = ((h ^ byte) * 0x100000001b3) % (1 << 64)
    return format(h, "016x")


def byte_level(pattern, normalizer, bos, added):
    tok = Tokenizer(models.BPE(ignore_merges=bos is not None))
    if normalizer:
        tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(pattern), behavior="isolated"), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    specials = [bos] if bos else []
    tok.train_from_iterator(train, trainers.BpeTrainer(
        vocab_size=1000, special_tokens=specials + added, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
    tok.decoder = decoders.ByteLevel()
    if bos:
        tok.post_processor = processors.TemplateProcessing(single=f"{bos} $A", special_tokens=[(bos, tok.token_to_id(bos))])
    return tok


def sentencepiece(style, bos):
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.train_from_iterator(train, trainers.BpeTrainer(
        vocab_size=1300, special_tokens=["<unk>", bos, "</s>"] + BYTES, show_progress=False))
    if style == "llama2":
        tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
        tok.pre_tokenizer = None
    elif style == "gemma":
        tok.normalizer = normalizers.Replace(" ", "▁")
        tok.pre_tokenizer = None
    else:
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=False)
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse()])
    tok.post_processor = processors.TemplateProcessing(single=f"{bos} $A", special_tokens=[(bos, tok.token_to_id(bos))])
    return tok


def splits():
    """Every Split behaviour and Digits, over a small WordPiece-free BPE with an unknown token."""
    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase(), normalizers.Strip()])
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(r"\s+"), behavior="removed"), pre_tokenizers.Split("-", behavior="merged_with_previous"),
        pre_tokenizers.Split(",", behavior="merged_with_next"), pre_tokenizers.Split(Regex(r"\.+"), behavior="contiguous"),
        pre_tokenizers.Split(Regex(r"[aeiou]"), behavior="isolated", invert=True), pre_tokenizers.Digits(individual_digits=True)])
    tok.train_from_iterator(train, trainers.BpeTrainer(vocab_size=600, special_tokens=["[UNK]"], show_progress=False))
    return tok


styles = {
    "llama3": byte_level(LLAMA3, None, "<|begin_of_text|>", ["<|end_of_text|>"]),
    "qwen2": byte_level(QWEN2, normalizers.NFC(), None, ["<|endoftext|>"]),
    "llama2": sentencepiece("llama2", "<s>"),
    "gemma": sentencepiece("gemma", "<bos>"),
    "mistral": sentencepiece("mistral", "<s>"),
    "splits": splits(),
}
# Added tokens of every kind on the Qwen2 style: lstrip, rstrip, single_word, normalized.
styles["qwen2"].add_tokens([
    AddedToken("<mask>", lstrip=True, special=True, normalized=False), AddedToken("[SEP]", rstrip=True, special=True, normalized=False),
    AddedToken("ab", single_word=True, normalized=False), AddedToken("cafe\u0301", normalized=True)])
CRAFTED += ["x <mask> y", "x   <mask>", "a [SEP]   b", "ab abc cab ab.", "café and cafe\u0301 again", "1-2-3, 4,5 ... 6.7 -x-"]
for name, tok in styles.items():
    os.makedirs(f"{out}/{name}", exist_ok=True)
    tok.save(f"{out}/{name}/tokenizer.json")
    tok = Tokenizer.from_file(f"{out}/{name}/tokenizer.json")  # what Sonde reads
    encoded = [tok.encode(t).ids for t in dev]
    expected = {
        "crafted": [[line, tok.encode(line).ids] for line in CRAFTED],
        "dev": {"sentences": len(dev), "ids": sum(map(len, encoded)), "fnv": [fnv(e) for e in encoded]},
    }
    json.dump(expected, open(f"{out}/{name}/expected.json", "w"), ensure_ascii=False)
    print(name, len(tok.get_vocab()), "tokens;", expected["dev"]["ids"], "ids over", len(dev), "dev sentences")
