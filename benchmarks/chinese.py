"""Chinese end to end, one table: Weibo NER dev F1 (named only; named + nominal) and
TNEWS dev accuracy for spaCy's CNN baseline, the stacked pipeline (CNN + frozen encoder
features) and the fine-tuned encoder at equal wall clock, then CA8-morphological / CA_translated analogy accuracy and wordsim-240 Spearman
for our exported word vectors against word2vec and fastText trained on the same text,
segmented the same way (jieba), with coverage.

    python benchmarks/chinese.py --encoder training/zh/encoder --budget-minutes 10 --vectors-mb 20
    python benchmarks/chinese.py --encoder training/zh_demo/encoder --budget-minutes 1 --vectors-mb 2   # smoke run
    python benchmarks/chinese.py --table-from rows.jsonl     # the task table of saved rows

Tasks `weibo-named`, `weibo-all` and `tnews`, systems `cnn` (zh_*_baseline.cfg),
`stacked` and `finetuned` (`cnn-baseline` and `fine-tuned` are still accepted), and for
TNEWS only `bow` (zh_textcat_bow.cfg, spaCy's bag-of-words textcat on characters) and
`ensemble` (zh_textcat_ensemble.cfg, it with the stacked tok2vec) of
benchmarks/harness.py: each (task, seed, system) runs in a subprocess of its own,
training in spaCy's loop until `--budget-minutes` of updates are spent (`--steps`: that
many updates instead), the stack's one-off feature encoding inside the budget. Before
the harness this script calibrated a number of steps from a 20-step run, which
short-changed the stack (its first steps encode, later ones read the cache);
benchmarks/RESULTS.md says which tables were measured that way. `--output` appends the
task rows as JSON lines, then the vectors' results as one more line. The vectors'
text is the first `--vectors-mb` MB of zh_text/ (the last files, so not the demo's
pretraining slice first), cut into words by jieba once; all three methods read that
file and keep their `--n-words` most frequent words.
"""
import argparse
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import List

import numpy

import harness
from word_vectors import gensim_vectors

import spacy_wv  # noqa: F401 (offline settings)
from spacy_wv.corpus.text import iter_documents
from spacy_wv.corpus.word_lines import document_word_lines, make_segmenter, write_word_lines
from spacy_wv.hf_dirs import load_encoder
from spacy_wv.vectors.evaluate import evaluate_sources, json_ready
from spacy_wv.vectors.export import ExportSettings, export_vectors
from spacy_wv.vectors.similarity import WordPairs, evaluate_similarity, read_word_pairs
from spacy_wv.vectors.sources import StaticSource
from spacy_wv.vectors.tables import StaticVectors

TASKS = ("weibo-named", "weibo-all", "tnews")
SYSTEMS = ("cnn", "stacked", "finetuned")
TEXTCAT_SYSTEMS = ("bow", "ensemble")  # TNEWS only; not in the default list
ALIASES = {"cnn-baseline": "cnn", "fine-tuned": "finetuned"}  # this script's names before the harness


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


def vectors_table(vec) -> str:
    names = ("word2vec", "fasttext", "ours")
    res = vec["results"]
    sim = {n: res["ca8"]["vectors"][n]["similarity"]["wordsim240"] for n in names}
    same = res["wordsim_same_pairs"]
    rows = [["wordsim-240 Spearman", *(f"{sim[n]['spearman']:.3f}" for n in names),
             " / ".join(f"{sim[n]['coverage']:.2f}" for n in names)],
            ["wordsim-240 Spearman, pairs all three cover", *(f"{same[n]['spearman']:.3f}" for n in names),
             f"{same[names[0]]['covered']} of {same[names[0]]['pairs']} pairs"]]
    for key, label in (("ca8", "CA8-morphological"), ("translated", "CA_translated")):
        entry = {n: res[key]["vectors"][n]["analogy"] for n in names}
        coverage = " / ".join(f"{entry[n]['coverage']:.2f}" for n in names)
        for method in ("3CosAdd", "3CosMul"):
            rows.append([f"{label} {method} acc", *(f"{entry[n][method]['overall']:.3f}" for n in names), coverage])
    table = harness.markdown_table(["measure", "word2vec", "fastText", "ours", "coverage (w2v / fastText / ours)"], rows)
    return table + "\nVector minutes: " + ", ".join(f"{n} {m:.1f}" for n, m in vec["minutes"].items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--encoder", type=Path, help="Chinese encoder dir (spacy_wv pretrain output)")
    parser.add_argument("--budget-minutes", type=float, default=10.0, help="Training wall clock per system and task")
    parser.add_argument("--tasks", default=",".join(TASKS), help="Comma-separated; empty: vectors only")
    parser.add_argument("--systems", default=",".join(SYSTEMS),
                        help="cnn, stacked (CNN + frozen encoder features), finetuned; for tnews also bow, ensemble")
    parser.add_argument("--steps", type=int, default=None, help="Train every system this many steps: equal steps")
    parser.add_argument("--train-docs", type=int, default=None, help="Use only this many training docs (smoke runs)")
    parser.add_argument("--vectors-mb", type=float, default=20.0, help="MB of zh_text for all three vector methods (0: skip)")
    parser.add_argument("--n-words", type=int, default=30_000)
    parser.add_argument("--contexts", type=int, default=4)
    parser.add_argument("--window", type=int, default=5, help="Export context: words either side of an occurrence")
    harness.add_run_arguments(parser)
    args = parser.parse_args()
    tasks = [t for t in args.tasks.split(",") if t]
    systems = [ALIASES.get(s, s) for s in args.systems.split(",")]

    known = SYSTEMS + TEXTCAT_SYSTEMS
    unknown = [s for s in systems if s not in known] + [t for t in tasks if t not in TASKS]
    if unknown:
        raise SystemExit(f"Unknown system or task: {unknown}; systems {list(known)}, tasks {list(TASKS)}")
    harness.check_pairs(tasks, systems)
    if not args.table_from and not (args.encoder and (args.encoder / "config.json").is_file()):
        raise SystemExit(f"Not an encoder directory (no config.json): {args.encoder}")

    def plan(folder: Path) -> List[dict]:
        spent = harness.chosen_budget(args.budget_minutes, args.steps)
        return [harness.spec(task, system, paths, spent, seed, args.encoder)
                for task in tasks for paths in [harness.convert(task, args.data_dir, folder, args.train_docs, args.dev_docs)]
                for seed in harness.seeds(args.seeds) for system in systems]

    if tasks or args.table_from:
        harness.run_plan(args, plan)
    if args.vectors_mb > 0 and not args.table_from:
        with tempfile.TemporaryDirectory() as tmp:
            tokenised = Path(tmp) / "zh.tok.txt"
            start = time.perf_counter()
            n_words = segment_corpus(args.data_dir, args.vectors_mb, tokenised)
            print(f"Vectors text: {args.vectors_mb} MB, {n_words:,} jieba words, segmented in {time.perf_counter() - start:.0f} s", flush=True)
            vec = vectors(args, tokenised)
        if args.output:
            harness.append_rows(args.output, [json_ready({"vectors": vec})])
        print()
        print(vectors_table(vec))


if __name__ == "__main__":
    main()
