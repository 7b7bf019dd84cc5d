"""Stacked features against spaCy's CNN, at equal wall clock (or equal steps).

Systems (configs/): `cnn` (ner_baseline / textcat_baseline), `cnn+ft` (the same with
same-corpus fastText vectors), `stacked` (ner_stacked / textcat_stacked: CNN + frozen
encoder features), `stacked+ft`, and `finetuned` (ner / textcat: the whole encoder
fine-tuned, for reference). Tasks: CoNLL-2003, WNUT-17 and WikiANN NER (dev F1) and
SST-2 (dev accuracy).

Each run is a subprocess that trains in spaCy's own loop (`train_while_improving`)
until the budget's seconds are spent (or `--steps` are done), with the config's peak
learning rate warmed up over the first 10% and decayed linearly to zero at the end of
the budget. Pipeline initialization (loading the encoder and vectors) is not counted;
everything in the updates is, the stacked systems' one-off feature encoding included.
Then it scores the full dev set, reloads the pipeline from disk (so the feature cache
is off, as for a user) and measures `nlp.pipe` words/s on the dev texts.

    python benchmarks/stacked_budget.py --encoder training/encoder --vectors training/fasttext_vectors \
        --tasks conll,sst2 --seeds 0,1,2
    python benchmarks/stacked_budget.py --encoder training/demo/encoder --vectors DIR \
        --tasks conll --minutes 0.5 --train-docs 50      # smoke run
    python benchmarks/stacked_budget.py --table-from rows1.jsonl rows2.jsonl   # one table from saved rows

Threads follow OMP_NUM_THREADS / torch's default. The table gives mean ± standard
deviation over seeds.
"""
import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

REPO = Path(__file__).resolve().parent.parent
TASKS = {
    # name: (kind, train file, dev file, token prefix, default budget minutes)
    "conll": ("ner", "conll2003/eng.train", "conll2003/eng.testa", "", 7.0),
    "wnut17": ("ner", "wnut17/train.conll", "wnut17/dev.conll", "", 7.0),
    "wikiann": ("ner", "wikiann_en/train.txt", "wikiann_en/dev.txt", "en:", 7.0),
    "sst2": ("textcat", "sst2/train.txt", "sst2/dev.txt", "", 4.0),
}
SYSTEMS = {  # name: (config suffix, uses the encoder, uses static vectors)
    "cnn": ("_baseline", False, False),
    "cnn+ft": ("_baseline", False, True),
    "stacked": ("_stacked", True, False),
    "stacked+ft": ("_stacked", True, True),
    "finetuned": ("", True, False),
}
SCORE_KEYS = {"ner": "ents_f", "textcat": "cats_micro_f"}
WARMUP_FRACTION = 0.1


def convert(task: str, data_dir: Path, out: Path, train_docs: Optional[int]) -> Dict[str, Path]:
    from spacy_wv.corpus.conll import convert_conll
    from spacy_wv.corpus.labeled_text import convert_labeled_text, parse_label_map

    kind, train, dev, prefix, _ = TASKS[task]
    paths = {"train": out / f"{task}_train.spacy", "dev": out / f"{task}_dev.spacy"}
    if kind == "ner":
        convert_conll(data_dir / train, paths["train"], n_sents=10, max_docs=train_docs, token_prefix=prefix)
        convert_conll(data_dir / dev, paths["dev"], n_sents=10, token_prefix=prefix)
    else:
        names = parse_label_map("0=negative,1=positive")
        convert_labeled_text(data_dir / train, paths["train"], label_map=names, max_docs=train_docs)
        convert_labeled_text(data_dir / dev, paths["dev"], label_map=names)
    return paths


def system_overrides(encoder: Optional[str], vectors: Optional[str]) -> Dict[str, object]:
    """Config overrides for the encoder features and the static vectors (None: without)."""
    overrides: Dict[str, object] = {}
    if encoder is not None:
        overrides["paths.encoder"] = str(encoder)
    if vectors is not None:
        overrides["paths.vectors"] = str(vectors)
        overrides["components.tok2vec.model.embed.include_static_vectors"] = True
    return overrides


def phase(what: str, began: float) -> None:
    """Where a run's time goes, in its log (the GPU kit's steps have hard time limits)."""
    print(f"run_one: {what} at {time.perf_counter() - began:.1f} s", flush=True)


def run_one(spec: dict) -> dict:
    """Train one system in this process; returns its row."""
    import spacy
    import torch
    from spacy.training.initialize import init_nlp
    from spacy.training.loop import create_train_batches, train_while_improving
    from spacy.util import load_config, registry, resolve_dot_names

    if spec.get("gpu_id") is not None:  # benchmarks/gpu/run.py; before any model is built
        spacy.require_gpu(spec["gpu_id"])
    kind = TASKS[spec["task"]][0]
    suffix, uses_encoder, uses_vectors = SYSTEMS[spec["system"]]
    overrides = {"paths.train": spec["train"], "paths.dev": spec["dev"], "system.seed": spec["seed"],
                 "training.seed": spec["seed"],
                 **system_overrides(spec["encoder"] if uses_encoder else None, spec["vectors"] if uses_vectors else None),
                 **spec.get("overrides", {})}
    config = load_config(REPO / "configs" / f"{kind}{suffix}.cfg", overrides=overrides, interpolate=False)
    began = time.perf_counter()
    nlp = init_nlp(config)
    phase("initialized", began)
    features = nlp.get_pipe("tok2vec").model.get_ref("features") if uses_encoder and suffix == "_stacked" else None
    cache = features.shims[0].cache if features is not None else None
    if cache is not None:
        # wv_vectors' calibration at initialization encoded up to 50k training tokens
        # outside the budget; the budget must pay for every training doc's encoding.
        cache.clear()
    T = registry.resolve(config.interpolate()["training"])
    train_corpus, dev_corpus = resolve_dot_names(config.interpolate(), [T["train_corpus"], T["dev_corpus"]])
    optimizer = T["optimizer"]
    peak_lr = config.interpolate()["training"]["optimizer"]["learn_rate"]["initial_rate"]
    optimizer.schedules.pop("learn_rate", None)
    budget_s, max_steps = spec["seconds"], spec["steps"]

    def progress(elapsed: float, step: int) -> float:
        return step / max_steps if max_steps else elapsed / budget_s

    def learn_rate(fraction: float) -> float:
        if fraction < WARMUP_FRACTION:
            return peak_lr * max(fraction, 1e-3) / WARMUP_FRACTION
        return peak_lr * max(0.0, 1.0 - fraction) / (1.0 - WARMUP_FRACTION)

    optimizer.learn_rate = learn_rate(0.0)
    batches = create_train_batches(nlp, train_corpus, T["batcher"], T["max_epochs"])
    training = train_while_improving(
        nlp, optimizer, batches, evaluate=lambda: (0.0, {}), dropout=T["dropout"],
        accumulate_gradient=T["accumulate_gradient"], patience=0, max_steps=0, eval_frequency=10**9,
        exclude=T["frozen_components"], annotating_components=T["annotating_components"],
        before_update=None,
    )
    step_times: Dict[int, List[float]] = {}
    words = 0
    start = last = time.perf_counter()
    for _, info, _ in training:
        now = time.perf_counter()
        step_times.setdefault(info["epoch"], []).append(now - last)
        last, words = now, info["words"]
        if info["step"] == 0:
            phase("first step", began)
        fraction = progress(now - start, info["step"] + 1)
        if fraction >= 1.0:
            break
        optimizer.learn_rate = learn_rate(fraction)
    train_s = time.perf_counter() - start
    steps = sum(len(t) for t in step_times.values())
    dev_examples = list(dev_corpus(nlp))
    phase(f"trained {steps} steps", began)
    score = nlp.evaluate(dev_examples)[SCORE_KEYS[kind]]
    phase("evaluated", began)
    later = [t for epoch, times in step_times.items() if epoch >= 1 for t in times]
    with tempfile.TemporaryDirectory() as tmp:
        nlp.to_disk(tmp)
        loaded = spacy.load(tmp)
    texts = [eg.reference.text for eg in dev_examples]
    n_words = sum(len(eg.reference) for eg in dev_examples)
    t0 = time.perf_counter()
    for _ in loaded.pipe(texts, batch_size=64):
        pass
    infer_s = time.perf_counter() - t0
    phase("reloaded and timed inference", began)
    return {
        **{k: spec[k] for k in ("task", "system", "seed")}, "score": float(score), "steps": steps,
        "epochs": max(step_times) + 1 if step_times else 0, "train_s": round(train_s, 1),
        "train_words_s": round(words / train_s), "first_epoch_s_per_step": _mean(step_times.get(0, [])),
        "later_s_per_step": _mean(later), "infer_words_s": round(n_words / infer_s),
        "cache_mb": round(cache.n_bytes / 2**20, 1) if cache is not None else None,
        "threads": torch.get_num_threads(),
    }


def _mean(values: List[float]) -> Optional[float]:
    return round(statistics.mean(values), 4) if values else None


def summarize(rows: List[dict]) -> List[dict]:
    groups: Dict[tuple, List[dict]] = {}
    for row in rows:
        groups.setdefault((row["task"], row["system"]), []).append(row)
    out = []
    order = sorted(groups, key=lambda key: (list(TASKS).index(key[0]), list(SYSTEMS).index(key[1])))
    for task, system in order:
        runs = groups[(task, system)]
        scores = [100 * r["score"] for r in runs]

        def avg(key):
            values = [r[key] for r in runs if r[key] is not None]
            return statistics.mean(values) if values else None

        out.append({"task": task, "system": system, "n": len(runs), "mean": statistics.mean(scores),
                    "sd": statistics.stdev(scores) if len(scores) > 1 else 0.0, "steps": avg("steps"),
                    "epochs": avg("epochs"), "train_words_s": avg("train_words_s"),
                    "later_s_per_step": avg("later_s_per_step"), "infer_words_s": avg("infer_words_s"),
                    "cache_mb": avg("cache_mb")})
    return out


def print_table(summary: List[dict]) -> None:
    print("| task | system | seeds | dev score (mean ± sd) | steps | epochs | train words/s | s/step after epoch 1 "
          "| inference words/s | feature cache MB |")
    print("|---|---|---:|---|---:|---:|---:|---:|---:|---:|")
    for s in summary:
        metric = "acc" if TASKS[s["task"]][0] == "textcat" else "F1"
        later = f"{s['later_s_per_step']:.3f}" if s["later_s_per_step"] is not None else "-"
        cache = f"{s['cache_mb']:.0f}" if s["cache_mb"] is not None else "-"
        print(f"| {s['task']} | {s['system']} | {s['n']} | {metric} {s['mean']:.2f} ± {s['sd']:.2f} "
              f"| {s['steps']:.0f} | {s['epochs']:.1f} | {s['train_words_s']:.0f} | {later} "
              f"| {s['infer_words_s']:.0f} | {cache} |")


def read_rows(paths: List[Path]) -> List[dict]:
    """The JSON-lines rows that --output appended to each file, in order."""
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        raise SystemExit(f"No such rows file: {', '.join(missing)}")
    return [json.loads(line) for path in paths for line in path.read_text().splitlines() if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--encoder", type=Path, help="Pretrained encoder dir (for stacked and finetuned)")
    parser.add_argument("--vectors", type=Path, help="spaCy vectors dir (for the +ft systems)")
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--tasks", default="conll,sst2")
    parser.add_argument("--systems", default="cnn,cnn+ft,stacked,stacked+ft,finetuned")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--minutes", type=float, default=None, help="Budget per run (default: 7 for NER, 4 for SST-2)")
    parser.add_argument("--steps", type=int, default=0, help="Equal steps instead of equal wall clock")
    parser.add_argument("--train-docs", type=int, default=None, help="Use only this many training docs")
    parser.add_argument("--output", type=Path, default=None, help="Append the rows as JSON lines here")
    parser.add_argument("--table-from", type=Path, nargs="+", default=None,
                        help="Print the table of rows saved by --output (several runs' files) and exit")
    parser.add_argument("--run-one", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_one:
        print(json.dumps(run_one(json.loads(args.run_one))))
        return
    if args.table_from:
        print_table(summarize(read_rows(args.table_from)))
        return
    systems = args.systems.split(",")
    unknown = [s for s in systems if s not in SYSTEMS] + [t for t in args.tasks.split(",") if t not in TASKS]
    if unknown:
        raise SystemExit(f"Unknown system or task: {unknown}; systems {list(SYSTEMS)}, tasks {list(TASKS)}")
    if any(SYSTEMS[s][1] for s in systems) and not (args.encoder and (args.encoder / "config.json").is_file()):
        raise SystemExit(f"--encoder must be an encoder directory (config.json): {args.encoder}")
    if any(SYSTEMS[s][2] for s in systems) and not (args.vectors and args.vectors.is_dir()):
        raise SystemExit(f"--vectors must be a spaCy vectors directory (spacy init vectors): {args.vectors}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for task in args.tasks.split(","):
            paths = convert(task, args.data_dir, Path(tmp), args.train_docs)
            minutes = args.minutes if args.minutes is not None else TASKS[task][4]
            for seed in map(int, args.seeds.split(",")):
                for system in systems:
                    spec = {"task": task, "system": system, "seed": seed, "train": str(paths["train"]),
                            "dev": str(paths["dev"]), "encoder": str(args.encoder), "vectors": str(args.vectors),
                            "seconds": minutes * 60, "steps": args.steps}
                    result = subprocess.run([sys.executable, __file__, "--run-one", json.dumps(spec)],
                                            capture_output=True, text=True)
                    if result.returncode != 0:
                        raise SystemExit(f"{task}/{system}/seed {seed} failed:\n{result.stderr[-3000:]}")
                    row = json.loads(result.stdout.strip().splitlines()[-1])
                    rows.append(row)
                    print(json.dumps(row), flush=True)
                    if args.output:
                        with args.output.open("a") as f:
                            f.write(json.dumps(row) + "\n")
    print()
    print_table(summarize(rows))


if __name__ == "__main__":
    main()
