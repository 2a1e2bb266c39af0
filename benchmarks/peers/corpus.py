"""The Python side of the corpus benchmark: parse a CoNLL-U file with the `conllu` package
(parse of the whole text, as its README shows) and with `pyconll` (load_from_file).
Prints one JSON object. Usage: corpus.py FILE REPEATS"""
import json
import sys
import time

import conllu
import pyconll

path, repeats = sys.argv[1], int(sys.argv[2])


def best(f):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        result = f()
        times.append(time.perf_counter() - t)
    return min(times), result


def with_conllu():
    with open(path, encoding="utf-8") as f:
        return conllu.parse(f.read())


seconds_conllu, sentences = best(with_conllu)
seconds_pyconll, corpus = best(lambda: pyconll.load_from_file(path))
print(json.dumps({
    "conllu_seconds": seconds_conllu, "conllu_sentences": len(sentences),
    "conllu_words": sum(1 for s in sentences for t in s if isinstance(t["id"], int)),
    "pyconll_seconds": seconds_pyconll, "pyconll_sentences": len(corpus),
    "conllu_version": conllu.__version__ if hasattr(conllu, "__version__") else "?",
}))
