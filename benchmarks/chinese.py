"""Chinese end to end, one table: Weibo NER dev F1 (named only; named + nominal) and
TNEWS dev accuracy for spaCy's CNN baseline, the stacked pipeline (CNN + frozen encoder
features) and the fine-tuned encoder at equal wall clock, then CA8-morphological / CA_translated analogy accuracy and wordsim-240 Spearman
for our exported word vectors against word2vec and fastText trained on the same text,
segmented the same way (jieba), with coverage.

    python benchmarks/chinese.py --encoder training/zh/encoder --budget-minutes 10 --vectors-mb 20
    python benchmarks/chinese.py --encoder training/zh_demo/encoder --budget-minutes 1 --vectors-mb 2   # smoke run

The equal-wall-clock protocol is benchmarks/ner_budget.py's (a calibration run measures
seconds per step; each system then gets budget / seconds-per-step steps). The stacked
pipeline's 20 calibration steps include encoding the documents they see for the first
time, a cost later steps do not pay, so it gets fewer steps than its budget allows: read
the seconds column. The vectors'
text is the first `--vectors-mb` MB of zh_text/ (the last files, so not the demo's
pretraining slice first), cut into words by jieba once; all three methods read that
file and keep their `--n-words` most frequent words.
"""
import argparse
import json
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy

from ner_budget import CALIBRATION_DEV_DOCS, REPO, run_budget
from word_vectors import gensim_vectors

import spacy_wv  # noqa: F401 (offline settings)
from spacy_wv.corpus.text import iter_documents
from spacy_wv.corpus.tnews import convert_tnews
from spacy_wv.corpus.weibo import convert_weibo
from spacy_wv.corpus.word_lines import document_word_lines, make_segmenter, write_word_lines
from spacy_wv.hf_dirs import load_encoder
from spacy_wv.vectors.evaluate import evaluate_sources, json_ready
from spacy_wv.vectors.export import ExportSettings, export_vectors
from spacy_wv.vectors.similarity import WordPairs, evaluate_similarity, read_word_pairs
from spacy_wv.vectors.sources import StaticSource
from spacy_wv.vectors.tables import StaticVectors

TASKS = {  # name: spaCy task
    "weibo-named": "ner",
    "weibo-all": "ner",
    "tnews": "textcat",
}
# system: config suffix (zh_ner<suffix>.cfg / zh_textcat<suffix>.cfg)
SYSTEMS = {"cnn-baseline": "_baseline", "stacked": "_stacked", "fine-tuned": ""}


def convert(data: Path, out: Path) -> dict:
    weibo, tnews = data / "weibo_ner", data / "tnews_fewclue"
    files = {}
    for name, labels in (("weibo-named", "named"), ("weibo-all", "all")):
        convert_weibo(weibo / "train.conll", out / f"{name}_train.spacy", labels=labels)
        convert_weibo(weibo / "dev.conll", out / f"{name}_dev.spacy", labels=labels)
        convert_weibo(weibo / "dev.conll", out / f"{name}_cal.spacy", labels=labels, max_docs=CALIBRATION_DEV_DOCS)
    labels = tnews / "labels.json"
    convert_tnews(tnews / "train_few_all.json", out / "tnews_train.spacy", labels_path=labels)
    convert_tnews(tnews / "dev_few_all.json", out / "tnews_dev.spacy", labels_path=labels)
    convert_tnews(tnews / "dev_few_all.json", out / "tnews_cal.spacy", labels_path=labels, max_docs=CALIBRATION_DEV_DOCS)
    for name in TASKS:
        files[name] = tuple(out / f"{name}_{part}.spacy" for part in ("train", "dev", "cal"))
    return files


def segment_corpus(data: Path, max_mb: float, out: Path) -> int:
    """The first `max_mb` MB of zh_text (from its last file backwards, whole documents),
    one line per paragraph, jieba words separated by single spaces. Returns the number
    of words."""
    segment = make_segmenter(segmenter="jieba")
    files = sorted((data / "zh_text").glob("*.txt"), reverse=True)

    def lines():
        budget = max_mb * 1e6
        for document in iter_documents(files):
            yield from document_word_lines(document, segment)
            budget -= len(document.encode("utf8"))
            if budget <= 0:
                return

    return write_word_lines(lines(), out)


def vectors(args, tokenised: Path) -> dict:
    tables, minutes = {}, {}
    gensim_args = SimpleNamespace(dim=300, epochs=5, min_count=5, workers=1, n_words=args.n_words)
    for method in ("word2vec", "fasttext", "ours"):
        start = time.perf_counter()
        if method == "ours":
            model, tokenizer = load_encoder(args.encoder)
            settings = ExportSettings(n_words=args.n_words, contexts=args.contexts, whitespace=True, window=args.window)
            result = export_vectors(model, tokenizer, [tokenised], settings)
            tables[method] = StaticVectors(result.words, result.table)
        else:
            tables[method] = gensim_vectors(method, tokenised, gensim_args)
        minutes[method] = (time.perf_counter() - start) / 60
    sources = [StaticSource(name, table) for name, table in tables.items()]
    zh = args.data_dir
    wordsim = zh / "zh_wordsim" / "wordsim240.tsv"
    results = {}
    for key, analogy in (("ca8", zh / "zh_analogy" / "CA8_morphological.txt"), ("translated", zh / "zh_analogy" / "CA_translated.txt")):
        results[key] = evaluate_sources(sources, [wordsim], analogy, args.n_words)
    results["wordsim_same_pairs"] = same_pairs_similarity(sources, read_word_pairs(wordsim))
    return {"results": results, "minutes": minutes}


def same_pairs_similarity(sources, word_pairs: WordPairs) -> dict:
    """Spearman of every source over only the pairs that all of them cover: the
    methods keep different vocabularies, so their own-coverage scores rank different pairs."""
    covered = numpy.ones(len(word_pairs.pairs), dtype=bool)
    for source in sources:
        for side in (0, 1):
            covered &= source.lookup([pair[side] for pair in word_pairs.pairs])[1]
    common = WordPairs(word_pairs.name, [p for p, keep in zip(word_pairs.pairs, covered) if keep], word_pairs.scores[covered])
    return {source.name: evaluate_similarity(source, common) for source in sources}


def print_table(task_rows, vec) -> None:
    print("| task | system | seeds | steps | seconds | dev score (mean ± sd) |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    groups = {}
    for r in task_rows:
        groups.setdefault((r["name"], r["system"]), []).append(r)
    for (name, system), runs in groups.items():
        metric = "acc" if name == "tnews" else "F1"
        scores = numpy.array([100 * r["score"] for r in runs])
        spread = f" ± {scores.std(ddof=1):.2f}" if len(runs) > 1 else ""
        steps = "/".join(str(r["steps"]) for r in runs)
        seconds = "/".join(f"{r['seconds']:.0f}" for r in runs)
        print(f"| {name} | {system} | {len(runs)} | {steps} | {seconds} | {metric} {scores.mean():.2f}{spread} |")
    print()
    print("| measure | word2vec | fastText | ours | coverage (w2v / fastText / ours) |")
    print("| --- | --- | --- | --- | --- |")
    if vec is None:
        return
    names = ("word2vec", "fasttext", "ours")
    res = vec["results"]
    sim = {n: res["ca8"]["vectors"][n]["similarity"]["wordsim240"] for n in names}
    coverage = " / ".join(f"{sim[n]['coverage']:.2f}" for n in names)
    print("| wordsim-240 Spearman | " + " | ".join(f"{sim[n]['spearman']:.3f}" for n in names) + f" | {coverage} |")
    same = res["wordsim_same_pairs"]
    print("| wordsim-240 Spearman, pairs all three cover | " + " | ".join(f"{same[n]['spearman']:.3f}" for n in names)
          + f" | {same[names[0]]['covered']} of {same[names[0]]['pairs']} pairs |")
    for key, label in (("ca8", "CA8-morphological"), ("translated", "CA_translated")):
        entry = {n: res[key]["vectors"][n]["analogy"] for n in names}
        coverage = " / ".join(f"{entry[n]['coverage']:.2f}" for n in names)
        for method in ("3CosAdd", "3CosMul"):
            print(f"| {label} {method} acc | " + " | ".join(f"{entry[n][method]['overall']:.3f}" for n in names) + f" | {coverage} |")
    print("Vector minutes: " + ", ".join(f"{n} {m:.1f}" for n, m in vec["minutes"].items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--encoder", type=Path, required=True, help="Chinese encoder dir (spacy_wv pretrain output)")
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--budget-minutes", type=float, default=10.0, help="Training wall clock per system and task")
    parser.add_argument("--tasks", default=",".join(TASKS), help="Comma-separated; empty: vectors only")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="cnn-baseline, stacked (CNN + frozen encoder features), fine-tuned")
    parser.add_argument("--steps", type=int, default=None,
                        help="Train every system this many steps (no calibration): equal steps, or a system's budget at its measured rate")
    parser.add_argument("--seeds", default="0", help="Comma-separated training seeds (spaCy's system.seed)")
    parser.add_argument("--vectors-mb", type=float, default=20.0, help="MB of zh_text for all three vector methods (0: skip)")
    parser.add_argument("--n-words", type=int, default=30_000)
    parser.add_argument("--contexts", type=int, default=4)
    parser.add_argument("--window", type=int, default=5, help="Export context: words either side of an occurrence")
    parser.add_argument("--output", type=Path, default=None, help="Write everything as JSON here")
    args = parser.parse_args()
    if not (args.encoder / "config.json").is_file():
        raise SystemExit(f"Not an encoder directory (no config.json): {args.encoder}")
    tasks = [t for t in args.tasks.split(",") if t]
    seeds = [int(seed) for seed in args.seeds.split(",")]
    unknown = [s for s in args.systems.split(",") if s not in SYSTEMS] + [t for t in tasks if t not in TASKS]
    if unknown:
        raise SystemExit(f"Unknown system or task: {unknown}; systems {list(SYSTEMS)}, tasks {list(TASKS)}")
    rows, vec = [], None
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        files = convert(args.data_dir, work)
        for name in tasks:
            task = TASKS[name]
            (work / name).mkdir()
            for seed in seeds:
                for system in args.systems.split(","):
                    config = f"zh_{task}{SYSTEMS[system]}.cfg"
                    row = run_budget(task, config, *files[name][:2], files[name][2], args.budget_minutes * 60, work / name,
                                     args.encoder, seed=seed, steps=args.steps)
                    rows.append({"name": name, **row, "system": system})
                    print(json.dumps(rows[-1]), flush=True)
        if args.vectors_mb > 0:
            tokenised = work / "zh.tok.txt"
            start = time.perf_counter()
            n_words = segment_corpus(args.data_dir, args.vectors_mb, tokenised)
            print(f"Vectors text: {args.vectors_mb} MB, {n_words:,} jieba words, segmented in {time.perf_counter() - start:.0f} s", flush=True)
            vec = vectors(args, tokenised)
    print()
    print_table(rows, vec)
    if args.output:
        args.output.write_text(json.dumps(json_ready({"tasks": rows, "vectors": vec}), indent=2))


if __name__ == "__main__":
    main()
