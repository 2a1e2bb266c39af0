#!/usr/bin/env bash
# Renders Sonde's HTML views in a real headless browser (Debian's chromium) and checks what the
# browser built: the top-words view has every neuron's section, coloured words and the SVG
# chart; the study report of `sonde demo` has every chart with its caption; the task-space and
# task-dynamics reports have their heatmaps, tables and curves; the interaction view its heat map
# and dependency arcs; none loads anything from outside. Leaves screenshots in benchmarks/.data/top-words.png and report.png.
#   apt-get install -y chromium   (once)
set -euo pipefail
cd "$(dirname "$0")/.."
browser="$(command -v chromium || command -v chromium-browser || true)"
[ -n "$browser" ] || { echo "no chromium: apt-get install -y chromium" >&2; exit 2; }
swift build --product sonde >&2
sonde=.build/debug/sonde
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
mkdir -p benchmarks/.data
# A tiny letter-level model on the default treebank (the same fixture as the CLI tests).
python3 - "$work" <<'PY'
import json, shutil, string, sys
work = sys.argv[1]
model = work + "/model"
shutil.copytree("Tests/Fixtures/models/bert-bf16", model, ignore=shutil.ignore_patterns("reference.npz"))
vocab = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3}
for prefix in ("", "##"):
    for c in string.ascii_lowercase: vocab[prefix + c] = len(vocab)
json.dump({"normalizer": {"type": "BertNormalizer", "lowercase": True}, "pre_tokenizer": {"type": "BertPreTokenizer"},
           "post_processor": {"type": "BertProcessing", "cls": ["[CLS]", 2], "sep": ["[SEP]", 3]},
           "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "vocab": vocab}},
          open(model + "/tokenizer.json", "w"))
PY
$sonde extract --model "$work/model" --corpus corpora/default.conllu --out "$work/acts.safetensors" >/dev/null
$sonde top-words "$work/acts.safetensors" --layer 2 --corpus corpora/default.conllu --neurons 0,5,12 --count 10 \
    --property upos --html "$work/view.html" >/dev/null 2>&1
flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars)
"$browser" "${flags[@]}" --dump-dom "file://$work/view.html" 2>/dev/null > "$work/dom.html"
"$browser" "${flags[@]}" --window-size=1200,1600 --screenshot=benchmarks/.data/top-words.png "file://$work/view.html" >/dev/null 2>&1
python3 - "$work/dom.html" <<'PY'
import re, sys
dom = open(sys.argv[1]).read()
checks = {
    "three neuron sections": len(re.findall(r'<section id="n\d+"', dom)) == 3,
    "ten listed words marked per list": dom.count('class="w hit"') == 3 * 2 * 10,
    "words coloured": len(re.findall(r'background:rgba\((214,39,40|31,119,180),', dom)) > 100,
    "an SVG chart per neuron": dom.count("<svg") == 3,
    "nothing loaded from outside": not re.search(r'(src|href)="(https?:)?//', dom) and "<script" not in dom,
}
for name, ok in checks.items():
    print(f"{'ok  ' if ok else 'FAIL'} {name}")
sys.exit(0 if all(checks.values()) else 1)
PY
echo "screenshot: benchmarks/.data/top-words.png"

# The study report: `sonde demo` (release build: it trains an LSTM) into a scratch folder.
swift build -c release --product sonde >&2
.build/release/sonde demo --out "$work/demo" >/dev/null 2>&1
"$browser" "${flags[@]}" --dump-dom "file://$work/demo/report.html" 2>/dev/null > "$work/report-dom.html"
"$browser" "${flags[@]}" --window-size=1100,6000 --screenshot=benchmarks/.data/report.png "file://$work/demo/report.html" >/dev/null 2>&1
python3 - "$work/report-dom.html" <<'PY'
import re, sys
dom = open(sys.argv[1]).read()
charts = dom.count("<svg")
checks = {
    "a section per property (upos, feats.Number, genre) and one for training": len(re.findall(r"<h2>", dom)) == 4,
    "every chart drawn, with a caption": charts >= 20 and dom.count("<figcaption>") >= charts,
    "lines and bars in the charts": dom.count("<polyline") >= 20 and dom.count("<rect") >= 30,
    "axis labels and legends": dom.count("text-anchor") >= 100,
    "nothing loaded from outside": not re.search(r'(src|href)="(https?:)?//', dom) and "<script" not in dom,
}
for name, ok in checks.items():
    print(f"{'ok  ' if ok else 'FAIL'} {name}")
sys.exit(0 if all(checks.values()) else 1)
PY
echo "screenshot: benchmarks/.data/report.png"

# The task-space report: a tiny LSTM from the demo's cache, grammar pairs, gradient and transfer
# spaces (debug build, small settings), and the dynamics report over two of its checkpoints.
lm="$(ls -d "$work"/demo/cache/lm-*/step-300 | head -1)"
$sonde pairs make --grammar --tasks sv-adjacent,sv-pp-other,det-noun-adjacent,missing-object --n 60 --out "$work/pairs" >/dev/null
$sonde taskspace --model "$lm" --pairs "$work/pairs" --seeds 1 --out "$work/ts" --quiet >/dev/null
$sonde taskspace dynamics --checkpoints "$(dirname "$lm")"/step-50 "$lm" --pairs "$work/pairs" --seeds 1 --no-nulls \
    --out "$work/tsd" --quiet >/dev/null
for page in ts tsd; do
    "$browser" "${flags[@]}" --dump-dom "file://$work/$page/report.html" 2>/dev/null > "$work/$page-dom.html"
    "$browser" "${flags[@]}" --window-size=1100,2600 --screenshot=benchmarks/.data/$page.png "file://$work/$page/report.html" >/dev/null 2>&1
done
python3 - "$work/ts-dom.html" "$work/tsd-dom.html" <<'PY'
import re, sys
ts, tsd = open(sys.argv[1]).read(), open(sys.argv[2]).read()
checks = {
    "task space: bars, two 4 × 4 heatmaps with a frame per group": ts.count("<svg") == 3 and ts.count("<rect") >= 4 + 2 * (16 + 3),
    "task space: agreement and comparison tables": ts.count("<table") == 3 and ts.count("<td>ftgd</td>") == 4,
    "dynamics: scoring curves and stability lines": tsd.count("<svg") == 3 and tsd.count("<polyline") >= 3 * 2,
    "nothing loaded from outside": not re.search(r'(src|href)="(https?:)?//', ts + tsd) and "<script" not in ts + tsd,
}
for name, ok in checks.items():
    print(f"{'ok  ' if ok else 'FAIL'} {name}")
sys.exit(0 if all(checks.values()) else 1)
PY
echo "screenshots: benchmarks/.data/ts.png, tsd.png"

# The interaction view: one sentence's word pairs as a heat map over its dependency arcs.
$sonde interactions "$lm" --corpus corpora/default.conllu --limit 5 --sentence 0 --html "$work/inter.html" --quiet >/dev/null
"$browser" "${flags[@]}" --dump-dom "file://$work/inter.html" 2>/dev/null > "$work/inter-dom.html"
"$browser" "${flags[@]}" --window-size=1100,900 --screenshot=benchmarks/.data/interactions.png "file://$work/inter.html" >/dev/null 2>&1
python3 - "$work/inter-dom.html" <<'PY'
import re, sys
dom = open(sys.argv[1]).read()
words = dom.count("<th>") - 1
n = (words) // 2  # a header row and a header column of the words
checks = {
    "a heat map: a coloured cell for every pair": len(re.findall(r'<td style="background:rgba\(178,34,34,', dom)) == n * (n - 1) // 2,
    "the tree: an arc for every word but the root": dom.count("<path") == n - 1,
    "nothing loaded from outside": not re.search(r'(src|href)="(https?:)?//', dom) and "<script" not in dom,
}
for name, ok in checks.items():
    print(f"{'ok  ' if ok else 'FAIL'} {name}")
sys.exit(0 if all(checks.values()) else 1)
PY
echo "screenshot: benchmarks/.data/interactions.png"
