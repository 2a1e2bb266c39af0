#!/usr/bin/env python3
"""The large hostile inputs of the crash-safety work, too big for the test suite: each is made in
a scratch folder, given to `sonde`, and checked for the exit status, wall time, peak memory
(ru_maxrss of the child) and files left behind. Standard library only.

    benchmarks/hostile.py [path/to/sonde]     (default: .build/release/sonde, built if missing)

Prints one row per case and exits 1 if any case breaks its bound."""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL_FIXTURE = os.path.join(ROOT, "Tests", "Fixtures", "models", "bert-bf16")


# A child's peak RSS counts what it inherited before exec: this script holds the large inputs it
# made, so a fresh, small interpreter forks sonde and reports its status and peak memory.
LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"""


def run(sonde, args, cwd):
    """Runs sonde; returns (exit status, seconds, peak MiB, stderr's last line)."""
    start = time.monotonic()
    with open(os.path.join(cwd, ".stderr"), "wb") as err:
        done = subprocess.run([sys.executable, "-c", LAUNCHER, sonde] + args, cwd=cwd, stdout=subprocess.PIPE, stderr=err, check=True)
    seconds = time.monotonic() - start
    with open(os.path.join(cwd, ".stderr"), "rb") as err:
        lines = err.read().decode("utf-8", "replace").strip().splitlines()
    os.remove(os.path.join(cwd, ".stderr"))
    code, kib = done.stdout.decode().split()[-2:]
    return int(code), seconds, int(kib) / 1024, (lines[-1] if lines else "")


def letter_model(folder):
    """The tiny BERT fixture with a letter-level WordPiece tokenizer (as the CLI tests)."""
    model = os.path.join(folder, "model")
    os.makedirs(model)
    for name in ("config.json", "model.safetensors"):
        shutil.copy(os.path.join(MODEL_FIXTURE, name), model)
    vocab = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3}
    for c in "abcdefghijklmnopqrstuvwxyz":
        vocab[c] = len(vocab)
    for c in "abcdefghijklmnopqrstuvwxyz":
        vocab["##" + c] = len(vocab)
    tokenizer = {"normalizer": {"type": "BertNormalizer", "lowercase": True}, "pre_tokenizer": {"type": "BertPreTokenizer"},
                 "post_processor": {"type": "BertProcessing", "cls": ["[CLS]", 2], "sep": ["[SEP]", 3]},
                 "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "vocab": vocab}}
    with open(os.path.join(model, "tokenizer.json"), "w") as f:
        json.dump(tokenizer, f)
    return model


def cases(folder):
    """(name, sonde arguments, expected exit status, seconds bound, MiB bound)."""
    # Billion laughs (709 bytes): 115 s and 3.25 GB, reported valid, before the fix.
    laughs = os.path.join(folder, "laughs.xml")
    with open(laughs, "w") as f:
        f.write('<?xml version="1.0"?>\n<!DOCTYPE corpus [\n<!ENTITY a "aaaaaaaaaa">\n')
        for prev, name in zip("abcdefgh", "bcdefghi"):
            f.write(f'<!ENTITY {name} "{("&" + prev + ";") * 10}">\n')
        f.write(']>\n<corpus id="c"><head></head><body><s id="s1"><graph root="s1_1"><terminals>'
                '<t id="s1_1" word="&i;" pos="NN"/></terminals></graph></s></body></corpus>\n')
    yield "billion laughs (TIGER-XML)", ["corpus", "validate", laughs], 65, 5, 200

    # A 1 MB .npz that inflates to 1 GB of zeros: 2.1 GB of memory in `inspect` before the fix.
    bomb = os.path.join(folder, "bomb.npz")
    size = 1 << 30
    header = b"{'descr': '<f4', 'fortran_order': False, 'shape': (%d,), }" % ((size - 128) // 4)
    header = b"\x93NUMPY\x01\x00" + struct.pack("<H", 118) + header.ljust(117) + b"\n"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z, z.open("x.npy", "w", force_zip64=True) as member:
        member.write(header)
        zeros = bytes(1 << 24)
        for _ in range((size - 128) // len(zeros)):
            member.write(zeros)
    yield f"npz bomb ({os.path.getsize(bomb) >> 10} kB → 1 GiB)", ["inspect", bomb], 65, 20, 300

    # An 81 MB safetensors header: 3.9 GB, then signal 11, before the fix.
    big = os.path.join(folder, "header.safetensors")
    for entries, expected, mib in ((4_800_000, 65, 200), (900_000, 0, 600)):
        body = b'{"__metadata__": {' + b", ".join(b'"k%d": "v"' % i for i in range(entries)) + b"}}"
        with open(big, "wb") as f:
            f.write(struct.pack("<Q", len(body)) + body)
        del body
        # Over the limit: refused before parsing. Under it: parsed, at a cost this row shows.
        yield f"safetensors header of {os.path.getsize(big) / 1e6:.0f} MB", ["inspect", big], expected, 30, mib
    deep = os.path.join(folder, "deep.safetensors")
    body = b'{"a": ' + b"[" * 1_000_000 + b"]" * 1_000_000 + b"}"
    with open(deep, "wb") as f:
        f.write(struct.pack("<Q", len(body)) + body)
    yield "safetensors header nested 10⁶ deep", ["inspect", deep], 65, 5, 200

    # One sentence of 50,000 words (698 MB in extract before) and one word of 1 MB (23 s, abort).
    model = letter_model(folder)
    sentence = os.path.join(folder, "sentence.txt")
    with open(sentence, "w") as f:
        f.write(" ".join(["word"] * 50_000) + "\n")
    yield "50,000-word sentence (extract)", ["extract", "--model", model, "--corpus", sentence, "--out", "s.safetensors"], 65, 10, 300
    word = os.path.join(folder, "word.txt")
    with open(word, "w") as f:
        f.write("a " + "x" * (1 << 20) + "\n")
    yield "1 MB word (extract)", ["extract", "--model", model, "--corpus", word, "--out", "w.safetensors"], 65, 10, 300

    # Deep brackets (the writer overflowed its stack at ~50,000 levels) and a long dependency chain.
    depth = 200_000
    brackets = os.path.join(folder, "deep.ptb")
    with open(brackets, "w") as f:
        f.write("(X " * depth + "(NN w)" + ")" * depth + "\n")
    yield f"{depth:,} levels of brackets (convert)", ["corpus", "convert", brackets, "--to", "ptb", "-o", "deep-copy.ptb"], 0, 30, 1000
    chain = os.path.join(folder, "chain.conllu")
    with open(chain, "w") as f:
        for i in range(1, 200_001):
            f.write(f"{i}\tw\tw\tX\tX\t_\t{i - 1}\t{'root' if i == 1 else 'dep'}\t_\t_\n")
    yield "dep.depth on a 200,000-word chain", ["corpus", "stats", chain, "--property", "dep.depth"], 0, 20, 1000


def main():
    sonde = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".build", "release", "sonde")
    if len(sys.argv) == 1 and not os.path.exists(sonde):
        subprocess.run(["swift", "build", "-c", "release", "--product", "sonde"], cwd=ROOT, check=True)
    failures = 0
    with tempfile.TemporaryDirectory() as folder:
        print(f"{'case':44} {'exit':>4} {'seconds':>8} {'peak MiB':>9}  verdict")
        for name, args, expected, seconds_bound, mib_bound in cases(folder):
            before = set(os.listdir(folder))
            code, seconds, mib, message = run(sonde, args, folder)
            left = sorted(set(os.listdir(folder)) - before - {"deep-copy.ptb"})
            ok = code == expected and seconds <= seconds_bound and mib <= mib_bound and not left
            failures += not ok
            print(f"{name:44} {code:>4} {seconds:>8.2f} {mib:>9.0f}  {'ok' if ok else 'FAIL'}"
                  + ("" if expected == 0 else f"  ({message[:110]})") + (f"  left behind: {left}" if left else ""))
    print(f"{failures} of the cases broke their bounds" if failures else "every case within its bounds")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
