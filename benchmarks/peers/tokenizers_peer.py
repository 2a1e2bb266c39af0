"""Peer of `sonde-bench tokenizers` (not named tokenize.py: that would shadow the standard library's module): a tokenizer.json's `encode_batch` over the lines of a file
(the `tokenizers` Rust library, one thread: RAYON_NUM_THREADS=1 set before import), best of 3.
Prints one JSON line: seconds, sentences, ids (the total), checksum (the sum of all ids)."""
import os, sys, json, time
os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
from tokenizers import Tokenizer

tok = Tokenizer.from_file(sys.argv[1])
lines = open(sys.argv[2], encoding="utf-8").read().split("\n")
best = None
for _ in range(3):
    fresh = Tokenizer.from_file(sys.argv[1])  # an empty cache each round, as Sonde starts
    start = time.perf_counter()
    encoded = fresh.encode_batch(lines)
    seconds = time.perf_counter() - start
    best = seconds if best is None else min(best, seconds)
ids = [e.ids for e in encoded]
print(json.dumps({"seconds": best, "sentences": len(lines), "ids": sum(map(len, ids)), "checksum": sum(map(sum, ids))}))
