"""One yardstick for encoders: what a pretraining recipe buys downstream, in one table.

    python benchmarks/encoder_quality.py ENCODER_DIR [ENCODER_DIR ...] --names a,b \
        --fasttext training/fasttext.txt
    python benchmarks/encoder_quality.py --recipe "mlm=configs/pretrain_mlm.cfg" \
        --recipe "mlm+warm=configs/pretrain_mlm.cfg --warm_start.method pieces" \
        --minutes 10 --shards corpus/shards --tokenizer corpus/tokenizer --work-dir /tmp/eq
    python benchmarks/encoder_quality.py --table-from rows1.jsonl rows2.jsonl   # one table from saved rows
    python benchmarks/encoder_quality.py --table-from rows.jsonl --plot growth.png  # and each score by budget

Per encoder (a directory, or a recipe pretrained here first into --work-dir; a recipe
is a pretraining config plus `--section.key value` overrides, budgeted by --minutes or
--steps; an existing run is resumed, so a finished one is reused):
- pretraining minutes and tokens seen (its metrics.jsonl; warm-start time included) and
  the last eval accuracy (masked-token accuracy for MLM; for RTD the discriminator's);
- NER probe: CoNLL-2003 dev F1 of spaCy's NER on the encoder's frozen features alone
  (`spacy_wv.EncoderFeatures.v1`, the stacked configs' features layer, no CNN, no
  static vectors), trained for a fixed number of steps on the first --ner-train-docs
  training docs;
- SST-2 probe: dev accuracy, the same way with the textcat config;
- its exported static vectors (`vectors export`, the --n-words most frequent words of
  the --corpus-mb sample, --contexts occurrences each, layers 0,1,2): WS353 and
  SimLex-999 Spearman, Google analogies 3CosAdd (candidates: the same --n-words words).
A `--fasttext` word2vec text file (e.g. `vectors fasttext` on the same text) is scored
on the words of the first encoder's table, as the row to beat.
Same steps, seeds and data for every row, so rows compare. Probes and exports run in
subprocesses, one at a time; threads follow OMP_NUM_THREADS. A probe is the `probe`
system of benchmarks/harness.py on its `conll` or `sst2` task, budgeted in steps
(warm-up over the first 10%, linear decay to zero, as before); before the harness,
spaCy's loop made one update more than --ner-steps / --sst2-steps (401 for 400), the
rows in encoder_quality_rows.jsonl included.
"""
import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Tuple

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
from word_vectors import sample_corpus  # noqa: E402

PROBES = {"ner": "conll", "sst2": "sst2"}  # probe: its harness task


def pretrain_recipe(name: str, recipe: str, args) -> Path:
    config, *overrides = shlex.split(recipe)
    out = args.work_dir / name
    budget = ["--training.max_minutes", str(args.minutes), "--training.max_steps", "null"] if args.steps is None else \
        ["--training.max_steps", str(args.steps), "--training.max_minutes", "null"]
    command = [sys.executable, "-m", "spacy_wv", "pretrain", config, str(out), "--paths.train", str(args.shards),
               "--paths.tokenizer", str(args.tokenizer), *budget, *overrides]
    print("$", " ".join(shlex.quote(c) for c in command), flush=True)
    subprocess.run(command, check=True, cwd=REPO)
    return out


def pretraining_cost(encoder: Path) -> Dict[str, Optional[float]]:
    metrics = encoder / "metrics.jsonl"
    if not metrics.is_file():
        return {"minutes": None, "tokens": None, "steps": None, "masked_acc": None}
    rows = [json.loads(line) for line in metrics.read_text(encoding="utf8").splitlines() if line.strip()]
    evals = [r for r in rows if "eval_accuracy" in r]
    return {"minutes": rows[-1]["elapsed_s"] / 60, "tokens": rows[-1]["tokens"], "steps": rows[-1]["step"],
            "masked_acc": evals[-1]["eval_accuracy"] if evals else None}


def export_vectors(encoder: Path, corpus: Path, out: Path, args) -> Path:
    command = [sys.executable, "-m", "spacy_wv", "vectors", "export", str(encoder), str(out), str(corpus),
               "--n-words", str(args.n_words), "--contexts", str(args.contexts), "--layers", "0,1,2"]
    subprocess.run(command, check=True, cwd=REPO, stdout=subprocess.DEVNULL)
    return out / "vectors.w2v.txt"


def same_words_table(path: Path, reference: Path, out: Path) -> Path:
    """The rows of `path` for the words of `reference` (an exported table), in its order:
    both tables are then scored on the same words and analogy candidates."""
    from spacy_wv.vectors.tables import read_word2vec, write_word2vec

    table, words = read_word2vec(path), read_word2vec(reference).words
    index = {w: i for i, w in enumerate(table.words)}
    kept = [w for w in words if w in index]
    write_word2vec(out, kept, table.table[[index[w] for w in kept]])
    return out


def score_vectors(tables: List[Path], data: Path, n_words: int, out: Path) -> List[Dict[str, float]]:
    from spacy_wv.vectors.evaluate import evaluate_sources
    from spacy_wv.vectors.sources import StaticSource
    from spacy_wv.vectors.tables import read_word2vec

    sources = [StaticSource(str(i), read_word2vec(path)) for i, path in enumerate(tables)]
    results = evaluate_sources(sources, [data / "wordsim" / "ws353_all.tsv", data / "wordsim" / "simlex999.tsv"],
                               data / "analogy" / "questions-words.txt", top_n=n_words)
    (out / "vector_scores.json").write_text(json.dumps(results, indent=1, default=str))
    rows = []
    for i in range(len(tables)):
        entry = results["vectors"][str(i)]
        similarity = list(entry["similarity"].values())
        rows.append({"ws353": similarity[0]["spearman"], "simlex": similarity[1]["spearman"],
                     "analogy": entry["analogy"]["3CosAdd"]["overall"], "analogy_coverage": entry["analogy"]["coverage"]})
    return rows


def fmt(value, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def seed_mean_sd(scores: List[float]) -> Tuple[float, float]:
    """A probe's per-seed scores as percent: mean and sample standard deviation (0 for one seed)."""
    return harness.mean_sd([100 * score for score in scores])


def print_table(rows: List[dict], args: Optional[argparse.Namespace]) -> None:
    """`args`: this run's settings, for the header; None for saved rows (their runs' settings)."""
    if args is not None:
        print(f"\nProbes: NER {args.ner_steps} steps on {args.ner_train_docs} CoNLL train docs, SST-2 {args.sst2_steps} steps "
              f"on {args.sst2_train_docs} sentences, seeds {args.seeds}; vectors: {args.n_words} words, {args.contexts} contexts, "
              f"{args.corpus_mb} MB sample.")
    table = []
    for r in rows:
        tokens = f"{r['tokens'] / 1e6:.2f}M" if r.get("tokens") else "-"
        probes = [harness.format_mean_sd([100 * v for v in r[key]]) if r.get(key) else "-" for key in ("ner", "sst2")]
        table.append([r["name"], fmt(r.get("minutes"), ".1f"), tokens, fmt(r.get("masked_acc"), ".3f"), *probes,
                      *(fmt(r.get(key), ".3f") for key in ("ws353", "simlex", "analogy"))])
    print(harness.markdown_table(["encoder", "pretrain min", "tokens", "eval acc", "NER probe F1", "SST-2 probe acc", "WS353",
                                  "SimLex", "analogy"], table, "lrrrrrrrr"))


BUDGET_NAME = re.compile(r"^(?P<recipe>.+), (?P<minutes>\d+) min$")
PLOTTED = (("ner", "NER probe F1"), ("sst2", "SST-2 probe accuracy"), ("ws353", "WS353 Spearman"),
           ("simlex", "SimLex-999 Spearman"), ("analogy", "Google analogies (3CosAdd)"))


def plot_growth(rows: List[dict], path: Path) -> None:
    """One panel per score against the pretraining minutes, one line per recipe: rows
    named "RECIPE, N min" share RECIPE's line, any other encoder row is a line of its
    own; a row without an encoder (fastText) is a dashed line on the vector panels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    recipes: Dict[str, List[dict]] = {}
    for row in rows:
        if "encoder" in row and row.get("minutes") is not None:
            match = BUDGET_NAME.match(row["name"])
            recipes.setdefault(match["recipe"] if match else row["name"], []).append(row)
    if not recipes:
        raise SystemExit("No rows to plot: no encoder row has its pretraining minutes")
    references = [row for row in rows if "encoder" not in row]
    budgets = sorted({round(p["minutes"]) for points in recipes.values() for p in points})
    figure, axes = plt.subplots(2, 3, figsize=(15, 8))
    for (key, title), ax in zip(PLOTTED, axes.flat):
        for recipe, points in recipes.items():
            points = sorted((p for p in points if p.get(key) is not None), key=lambda p: p["minutes"])
            if not points:
                continue
            # Probes hold per-seed scores, vector benchmarks a single number.
            means, spreads = zip(*(seed_mean_sd(p[key]) if isinstance(p[key], list) else (p[key], 0.0) for p in points))
            ax.errorbar([p["minutes"] for p in points], means, yerr=spreads, marker="o", capsize=3, label=recipe)
        for reference in references:
            if reference.get(key) is not None:
                ax.axhline(reference[key], linestyle="--", color="black", label=reference["name"])
        ax.set_xticks(budgets)
        ax.set_xlabel("pretraining minutes (2 CPU cores)")
        ax.set_title(title)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    vector_handles, vector_labels = axes.flat[2].get_legend_handles_labels()
    extra = [(h, l) for h, l in zip(vector_handles, vector_labels) if l not in labels]
    axes.flat[-1].axis("off")
    axes.flat[-1].legend(handles + [h for h, _ in extra], labels + [l for _, l in extra], loc="center", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    print(f"Plot: {path}")


def saved_rows(paths: List[Path]) -> List[dict]:
    """Rows of several --output files, each encoder once (the last run of a name wins) and
    the fastText row once, last: every run with --fasttext appends the same one."""
    rows: Dict[str, dict] = {}
    for row in harness.read_rows(paths):
        rows.pop(row["name"], None)
        rows[row["name"]] = row
    encoders = [row for row in rows.values() if "encoder" in row]
    return encoders + [row for row in rows.values() if "encoder" not in row]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("encoders", nargs="*", type=Path, help="Encoder directories")
    parser.add_argument("--names", default=None, help="Comma-separated names of the encoder directories")
    parser.add_argument("--recipe", action="append", default=[], help='"name=CONFIG [--section.key value ...]" to pretrain first')
    parser.add_argument("--minutes", type=float, default=30.0, help="Pretraining budget of each recipe")
    parser.add_argument("--steps", type=int, default=None, help="Pretraining steps of each recipe instead of --minutes")
    parser.add_argument("--shards", type=Path, help="Token shards for the recipes")
    parser.add_argument("--tokenizer", type=Path, help="Tokenizer of the shards")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/encoder_quality"))
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--fasttext", type=Path, default=None, help="Same-corpus fastText word2vec text file (the row to beat)")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--ner-steps", type=int, default=400)
    parser.add_argument("--ner-train-docs", type=int, default=300, help="CoNLL train docs (10 sentences each)")
    parser.add_argument("--sst2-steps", type=int, default=300)
    parser.add_argument("--sst2-train-docs", type=int, default=3000)
    parser.add_argument("--n-words", type=int, default=10000)
    parser.add_argument("--contexts", type=int, default=4)
    parser.add_argument("--corpus-mb", type=float, default=20.0, help="Raw-text sample for the vector export")
    parser.add_argument("--skip", default="", help="comma-separated: ner,sst2,vectors")
    parser.add_argument("--output", type=Path, default=None, help="Append the rows as JSON lines here")
    parser.add_argument("--table-from", type=Path, nargs="+", default=None,
                        help="Print the table of rows saved by --output (several runs' files) and exit")
    parser.add_argument("--plot", type=Path, default=None,
                        help='Also draw each score against the pretraining minutes, one line per recipe (rows named "RECIPE, N min") (PNG)')
    args = parser.parse_args()
    if args.table_from:
        rows = saved_rows(args.table_from)
        print_table(rows, None)
        if args.plot:
            plot_growth(rows, args.plot)
        return
    skip = set(filter(None, args.skip.split(",")))
    names = args.names.split(",") if args.names else [p.name for p in args.encoders]
    if len(names) != len(args.encoders):
        raise SystemExit(f"--names gives {len(names)} names for {len(args.encoders)} encoder directories")
    encoders = dict(zip(names, args.encoders))
    for recipe in args.recipe:
        name, _, spec = recipe.partition("=")
        if not spec or not (args.shards and args.tokenizer):
            raise SystemExit("--recipe needs NAME=CONFIG, and --shards and --tokenizer")
        encoders[name] = pretrain_recipe(name, spec, args)
    for name, encoder in encoders.items():
        if not (encoder / "config.json").is_file():
            raise SystemExit(f"{name}: not an encoder directory (no config.json): {encoder}")
    seeds = [int(s) for s in args.seeds.split(",")]
    args.work_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = {"ner": harness.convert("conll", args.data, tmp, args.ner_train_docs),
                "sst2": harness.convert("sst2", args.data, tmp, args.sst2_train_docs)}
        corpus = sample_corpus(args.data, args.corpus_mb, tmp / "corpus.txt") if "vectors" not in skip else None
        tables = []
        for name, encoder in encoders.items():
            row = {"name": name, "encoder": str(encoder), **pretraining_cost(encoder)}
            for probe in ("ner", "sst2"):
                if probe in skip:
                    continue
                steps = args.ner_steps if probe == "ner" else args.sst2_steps
                row[probe] = [harness.run_isolated(harness.spec(PROBES[probe], "probe", data[probe], harness.budget(steps=steps),
                                                                seed, encoder, infer=False))["score"] for seed in seeds]
                print(f"{name} {probe}: {row[probe]}", flush=True)
            if "vectors" not in skip:
                tables.append(export_vectors(encoder, corpus, args.work_dir / f"vectors_{name}", args))
            rows.append(row)
        if "vectors" not in skip:
            if args.fasttext and tables:
                rows.append({"name": f"fastText ({args.fasttext.name}), same words"})
                tables.append(same_words_table(args.fasttext, tables[0], tmp / "fasttext.txt"))
            for row, scores in zip(rows, score_vectors(tables, args.data, args.n_words, args.work_dir)):
                row.update(scores)
    for row in rows:
        print(json.dumps(row), flush=True)
    if args.output:
        harness.append_rows(args.output, rows)
    print_table(rows, args)
    if args.plot:
        plot_growth(rows, args.plot)


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
