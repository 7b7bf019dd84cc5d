"""The benchmark harness: tasks, systems, one budgeted training loop, an isolated runner
and one row format with mean ± sd tables. Every benchmark that trains a pipeline is a
list of runs over it (ner_budget, stacked_budget, chinese, ablations, encoder_quality).

- A **task** is a labelled data set (train and dev files under the data folder), its
  kind (`ner` or `textcat`: the config family and the dev metric, NER F1 or textcat
  accuracy) and its language (Chinese tasks use `configs/zh_*.cfg`).
- A **system** is a config (`{kind}_baseline`, `{kind}_stacked` or `{kind}`; for
  textcat also `textcat_bow`, spaCy's bag-of-words classifier, and `textcat_ensemble`,
  spaCy's ensemble of it with the stacked tok2vec) and what it is given: the encoder,
  static vectors, or the stacked config cut to its frozen features alone (`probe`).
  A system for one kind of task only (`bow`, `ensemble`: textcat) refuses the others.
- A **run** is (task, system, variant, seed, budget, overrides): `spec()` builds it.
  The budget is chosen explicitly, `budget(seconds=...)` or `budget(steps=...)`.
- `run_one` trains one run in this process in spaCy's own loop (`train_while_improving`)
  until the budget is spent, with the config's peak learning rate warmed up over the
  first 10% of the budget and decayed linearly to zero at its end. On steps this is
  spaCy's `warmup_linear` with `total_steps` = the budget; on wall clock the same shape
  over the seconds. Pipeline initialization (loading the encoder and vectors) is not
  counted; everything in the updates is, a stacked system's one-off feature encoding
  included (the feature cache is cleared after initialization). Then it scores the
  full dev set and, unless the spec says `"infer": false`, reloads the pipeline from
  disk (feature cache off, as for a user) and measures `nlp.pipe` words/s on the dev texts.
- `run_isolated` runs one spec in a subprocess of its own (`harness.py --run-one JSON`)
  and returns its row; `run_all` runs a list of them, printing and appending each row
  (JSON lines); `run_plan` is a training benchmark's main (`--table-from`, or convert,
  run, table).
- A **row** is one JSON object (see `run_one`); `score_table` groups rows by (task,
  system, variant, budget) and prints the dev score's mean ± sample standard deviation
  over seeds, with the means of the cost columns, as one markdown table.
  `markdown_table` and `format_mean_sd` are what the other benchmarks' tables use too.

    python benchmarks/harness.py --table-from rows.jsonl [more.jsonl ...]   # one table from saved rows
"""
import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

REPO = Path(__file__).resolve().parent.parent
DATA_DIR = REPO.parent / "shared" / "data"
WARMUP_FRACTION = 0.1
SCORE_KEYS = {"ner": "ents_f", "textcat": "cats_micro_f"}
METRIC_NAMES = {"ner": "F1", "textcat": "acc"}


@dataclass(frozen=True)
class Task:
    kind: str  # "ner" or "textcat"
    train: str  # under the data folder
    dev: str
    reader: str  # "conll", "sst2", "weibo" or "tnews"
    minutes: float  # the default wall-clock budget
    lang: str = "en"
    options: Dict[str, str] = field(default_factory=dict)


TASKS = {
    "conll": Task("ner", "conll2003/eng.train", "conll2003/eng.testa", "conll", 7.0),
    "wnut17": Task("ner", "wnut17/train.conll", "wnut17/dev.conll", "conll", 7.0),
    "wikiann": Task("ner", "wikiann_en/train.txt", "wikiann_en/dev.txt", "conll", 7.0, options={"token_prefix": "en:"}),
    "sst2": Task("textcat", "sst2/train.txt", "sst2/dev.txt", "sst2", 4.0),
    "weibo-named": Task("ner", "weibo_ner/train.conll", "weibo_ner/dev.conll", "weibo", 5.0, "zh", {"labels": "named"}),
    "weibo-all": Task("ner", "weibo_ner/train.conll", "weibo_ner/dev.conll", "weibo", 5.0, "zh", {"labels": "all"}),
    "tnews": Task("textcat", "tnews_fewclue/train_few_all.json", "tnews_fewclue/dev_few_all.json", "tnews", 5.0, "zh",
                  {"labels_path": "tnews_fewclue/labels.json"}),
}


@dataclass(frozen=True)
class System:
    suffix: str  # configs/{zh_}{kind}{suffix}.cfg
    encoder: bool  # given --paths.encoder
    vectors: bool  # given --paths.vectors, with the CNN's static-vector features on
    features_only: bool = False  # the stacked config's tok2vec cut to its encoder features
    kinds: Tuple[str, ...] = ("ner", "textcat")  # the task kinds it has a config for


SYSTEMS = {
    "cnn": System("_baseline", False, False),
    "cnn+ft": System("_baseline", False, True),
    "stacked": System("_stacked", True, False),
    "stacked+ft": System("_stacked", True, True),
    # spaCy's bag-of-words textcat (TextCatBOW), and its ensemble (TextCatEnsemble) with the
    # stacked tok2vec (CNN + frozen encoder features; +ft: with the CNN's static vectors).
    "bow": System("_bow", False, False, kinds=("textcat",)),
    "ensemble": System("_ensemble", True, False, kinds=("textcat",)),
    "ensemble+ft": System("_ensemble", True, True, kinds=("textcat",)),
    "finetuned": System("", True, False),
    # encoder_quality.py's probe: the encoder's frozen features alone (no CNN, no static
    # vectors, no wv_vectors) under the task's head.
    "probe": System("_stacked", True, False, features_only=True),
}


def config_path(task: str, system: str) -> Path:
    check_pairs([task], [system])
    t = TASKS[task]
    return REPO / "configs" / f"{'zh_' if t.lang == 'zh' else ''}{t.kind}{SYSTEMS[system].suffix}.cfg"


def check_names(tasks: Iterable[str], systems: Iterable[str]) -> None:
    """Known tasks and systems, each system with a config for each task's kind, or SystemExit."""
    tasks, systems = list(tasks), list(systems)
    unknown = [s for s in systems if s not in SYSTEMS] + [t for t in tasks if t not in TASKS]
    if unknown:
        raise SystemExit(f"Unknown system or task: {unknown}; systems {list(SYSTEMS)}, tasks {list(TASKS)}")
    check_pairs(tasks, systems)


def check_inputs(systems: Iterable[str], encoder: Optional[Path], vectors: Optional[Path]) -> None:
    """The encoder and vectors directories that the systems need, or SystemExit."""
    systems = list(systems)
    if any(SYSTEMS[s].encoder for s in systems) and not (encoder and (Path(encoder) / "config.json").is_file()):
        raise SystemExit(f"--encoder must be an encoder directory (config.json): {encoder}")
    if any(SYSTEMS[s].vectors for s in systems) and not (vectors and Path(vectors).is_dir()):
        raise SystemExit(f"--vectors must be a spaCy vectors directory (spacy init vectors): {vectors}")


def check_pairs(tasks: Iterable[str], systems: Iterable[str]) -> None:
    """SystemExit if a system has no config for a task's kind (bow and ensemble: textcat only)."""
    tasks = list(dict.fromkeys(tasks))
    refused = []
    for s in dict.fromkeys(systems):
        kinds = SYSTEMS[s].kinds
        bad = [f"{t} ({TASKS[t].kind})" for t in tasks if TASKS[t].kind not in kinds]
        if bad:
            fits = [name for name, task in TASKS.items() if task.kind in kinds]
            refused.append(f"system {s} is for {'/'.join(kinds)} tasks only ({', '.join(fits)}), not {', '.join(bad)}")
    if refused:
        raise SystemExit("; ".join(refused))


def budget(seconds: Optional[float] = None, steps: Optional[int] = None) -> Dict[str, float]:
    """A run's budget: wall-clock seconds of updates, or a number of updates; exactly one."""
    if (seconds is None) == (steps is None):
        raise ValueError("A budget is seconds or steps, exactly one of them")
    if (seconds if steps is None else steps) <= 0:
        raise ValueError(f"A budget must be positive: seconds={seconds}, steps={steps}")
    return {"seconds": float(seconds)} if steps is None else {"steps": int(steps)}


def budget_label(spent: Optional[Dict[str, float]]) -> str:
    if not spent:
        return "-"
    if "steps" in spent:
        return f"{spent['steps']} steps"
    return f"{spent['seconds'] / 60:g} min" if spent["seconds"] >= 60 else f"{spent['seconds']:g} s"


# ---- data and configs ----

def convert(task: str, data_dir: Path, out: Path, train_docs: Optional[int] = None,
            dev_docs: Optional[int] = None) -> Dict[str, Path]:
    """The task's train and dev files as .spacy DocBins in `out` (the first `train_docs` /
    `dev_docs` documents only, when given; CoNLL-style NER: documents of 10 sentences)."""
    t = TASKS[task]
    out.mkdir(parents=True, exist_ok=True)
    paths = {"train": out / f"{task}_train.spacy", "dev": out / f"{task}_dev.spacy"}
    for part, source, limit in (("train", t.train, train_docs), ("dev", t.dev, dev_docs)):
        source = data_dir / source
        if t.reader == "conll":
            from spacy_wv.corpus.conll import convert_conll

            convert_conll(source, paths[part], n_sents=10, max_docs=limit, token_prefix=t.options.get("token_prefix", ""))
        elif t.reader == "sst2":
            from spacy_wv.corpus.labeled_text import convert_labeled_text, parse_label_map

            convert_labeled_text(source, paths[part], label_map=parse_label_map("0=negative,1=positive"), max_docs=limit)
        elif t.reader == "weibo":
            from spacy_wv.corpus.weibo import convert_weibo

            convert_weibo(source, paths[part], labels=t.options["labels"], max_docs=limit)
        else:
            from spacy_wv.corpus.tnews import convert_tnews

            convert_tnews(source, paths[part], labels_path=data_dir / t.options["labels_path"], max_docs=limit)
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


def system_config(task: str, system: str, train: Path, dev: Path, encoder: Optional[str] = None,
                  vectors: Optional[str] = None, seed: int = 0, overrides: Optional[Dict[str, object]] = None):
    """The system's config for the task (not interpolated), with the data, seed, the
    encoder and vectors the system takes, and `overrides` on top: a string value is read
    as `spacy train --section.key VALUE` reads it (JSON where it parses, else the string)."""
    from spacy.util import load_config

    s = SYSTEMS[system]
    config = load_config(config_path(task, system), interpolate=False, overrides={
        "paths.train": str(train), "paths.dev": str(dev), "system.seed": seed, "training.seed": seed,
        **system_overrides(encoder if s.encoder else None, vectors if s.vectors else None),
        **{key: _cli_value(value) for key, value in (overrides or {}).items()}})
    if s.features_only:
        component = TASKS[task].kind
        components = config["components"]
        components["tok2vec"]["model"] = components["tok2vec"]["model"]["features"]
        components[component]["model"]["tok2vec"]["width"] = components["tok2vec"]["model"]["width"]
        config["nlp"]["pipeline"] = [p for p in config["nlp"]["pipeline"] if p != "wv_vectors"]
        components.pop("wv_vectors", None)
    return config


def _cli_value(value):
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def feature_caches(nlp) -> list:
    """The frozen-encoder feature caches in the pipeline's models."""
    from spacy_wv.layers.frozen_encoder import FrozenEncoderShim

    caches = []
    for _, pipe in nlp.pipeline:
        for node in pipe.model.walk() if hasattr(pipe, "model") else ():
            caches += [shim.cache for shim in node.shims if isinstance(shim, FrozenEncoderShim)]
    return caches


# ---- the budgeted loop ----

def learn_rate(peak: float, spent: Dict[str, float], step: int, elapsed: float) -> float:
    """The rate of update `step` (0-based) after `elapsed` seconds: warm-up over the first
    10% of the budget, then linear decay to zero at its end. On steps, spaCy's
    `warmup_linear.v1` (warm-up steps = steps // 10, total = steps)."""
    if "steps" in spent:
        steps = spent["steps"]
        warmup = max(1, steps // 10)
        factor = step / warmup if step < warmup else max(0.0, (steps - step) / max(1.0, steps - warmup))
    else:
        fraction = elapsed / spent["seconds"]
        factor = (max(fraction, 1e-3) / WARMUP_FRACTION if fraction < WARMUP_FRACTION
                  else max(0.0, 1.0 - fraction) / (1.0 - WARMUP_FRACTION))
    return peak * factor


def train_budgeted(nlp, T: dict, train_corpus, spent: Dict[str, float], peak_lr: float, log=None) -> dict:
    """Update `nlp` in spaCy's loop until the budget is spent; returns the updates' timing."""
    from spacy.training.loop import create_train_batches, train_while_improving

    optimizer = T["optimizer"]
    optimizer.schedules.pop("learn_rate", None)
    optimizer.learn_rate = learn_rate(peak_lr, spent, 0, 0.0)
    batches = create_train_batches(nlp, train_corpus, T["batcher"], T["max_epochs"])
    training = train_while_improving(
        nlp, optimizer, batches, evaluate=lambda: (0.0, {}), dropout=T["dropout"],
        accumulate_gradient=T["accumulate_gradient"], patience=0, max_steps=0, eval_frequency=10**9,
        exclude=T["frozen_components"], annotating_components=T["annotating_components"], before_update=None,
    )
    step_times: Dict[int, List[float]] = {}
    words = 0
    start = last = time.perf_counter()
    for _, info, _ in training:
        now = time.perf_counter()
        step_times.setdefault(info["epoch"], []).append(now - last)
        last, words = now, info["words"]
        if info["step"] == 0 and log:
            log("first step")
        done = info["step"] + 1
        if done >= spent["steps"] if "steps" in spent else now - start >= spent["seconds"]:
            break
        optimizer.learn_rate = learn_rate(peak_lr, spent, done, now - start)
    train_s = time.perf_counter() - start
    later = [t for epoch, times in step_times.items() if epoch >= 1 for t in times]
    return {"steps": sum(len(t) for t in step_times.values()), "epochs": max(step_times) + 1 if step_times else 0,
            "train_s": round(train_s, 1), "train_words_s": round(words / train_s),
            "first_epoch_s_per_step": _mean(step_times.get(0, [])), "later_s_per_step": _mean(later)}


def _mean(values: List[float]) -> Optional[float]:
    return round(statistics.mean(values), 4) if values else None


def spec(task: str, system: str, paths: Dict[str, Path], spent: Dict[str, float], seed: int = 0,
         encoder: Optional[Path] = None, vectors: Optional[Path] = None, overrides: Optional[dict] = None,
         variant: str = "", infer: bool = True, save_to: Optional[Path] = None) -> dict:
    """One run, as JSON-ready data. `save_to`: keep the trained pipeline in that folder
    (for benchmarks/inference_speed.py, timed later on an idle machine)."""
    return {"task": task, "system": system, "variant": variant, "seed": seed, "train": str(paths["train"]),
            "dev": str(paths["dev"]), "encoder": None if encoder is None else str(encoder),
            "vectors": None if vectors is None else str(vectors), "budget": spent, "overrides": overrides or {},
            "infer": infer, "save_to": None if save_to is None else str(save_to)}


def run_one(run: dict) -> dict:
    """Train one run (see `spec`) in this process; returns its row: task, system, variant,
    seed, budget, score (the dev metric, 0-1), steps, epochs, train_s, train_words_s,
    first_epoch_s_per_step, later_s_per_step (after the first epoch: features cached),
    infer_words_s, cache_mb (the feature cache at the end), threads."""
    import spacy
    import torch
    from spacy.training.initialize import init_nlp
    from spacy.util import registry, resolve_dot_names

    if run.get("gpu_id") is not None:  # benchmarks/gpu/run.py; before any model is built
        spacy.require_gpu(run["gpu_id"])
    began = time.perf_counter()

    def phase(what: str) -> None:
        """Where a run's time goes, in its log (the GPU kit's steps have hard time limits)."""
        print(f"run_one: {what} at {time.perf_counter() - began:.1f} s", flush=True)

    config = system_config(run["task"], run["system"], run["train"], run["dev"], run.get("encoder"),
                           run.get("vectors"), run["seed"], run.get("overrides"))
    nlp = init_nlp(config)
    phase("initialized")
    caches = feature_caches(nlp)
    for cache in caches:
        # wv_vectors' calibration at initialization encoded up to 50k training tokens
        # outside the budget; the budget must pay for every training doc's encoding.
        cache.clear()
    resolved = config.interpolate()
    T = registry.resolve(resolved["training"])
    train_corpus, dev_corpus = resolve_dot_names(resolved, [T["train_corpus"], T["dev_corpus"]])
    peak_lr = resolved["training"]["optimizer"]["learn_rate"]["initial_rate"]
    timing = train_budgeted(nlp, T, train_corpus, run["budget"], peak_lr, phase)
    phase(f"trained {timing['steps']} steps")
    dev_examples = list(dev_corpus(nlp))
    score = nlp.evaluate(dev_examples)[SCORE_KEYS[TASKS[run["task"]].kind]]
    phase("evaluated")
    row = {**{k: run.get(k, "") for k in ("task", "system", "variant", "seed", "budget")}, "score": float(score),
           **timing, "infer_words_s": None,
           "cache_mb": round(sum(c.n_bytes for c in caches) / 2**20, 1) if caches else None,
           "threads": torch.get_num_threads()}
    if run.get("save_to"):
        Path(run["save_to"]).mkdir(parents=True, exist_ok=True)
        nlp.to_disk(run["save_to"])
    if run.get("infer", True):
        with tempfile.TemporaryDirectory() as tmp:
            nlp.to_disk(tmp)
            loaded = spacy.load(tmp)
        texts = [eg.reference.text for eg in dev_examples]
        n_words = sum(len(eg.reference) for eg in dev_examples)
        t0 = time.perf_counter()
        for _ in loaded.pipe(texts, batch_size=64):
            pass
        row["infer_words_s"] = round(n_words / (time.perf_counter() - t0))
        phase("reloaded and timed inference")
    return row


# ---- isolated runs ----

def run_isolated(run: dict, script: Optional[Path] = None, label: str = "") -> dict:
    """`script --run-one JSON` (this file's by default) in a subprocess of its own; its row
    is the last line it prints. SystemExit with the end of its output if it fails."""
    result = subprocess.run([sys.executable, str(script or Path(__file__).resolve()), "--run-one", json.dumps(run)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        label = label or "/".join(str(run.get(k)) for k in ("task", "system", "variant", "seed") if run.get(k) != "")
        raise SystemExit(f"{label} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_all(runs: Sequence[dict], output: Optional[Path] = None) -> List[dict]:
    """Each run in a subprocess, one after another; every row printed as a JSON line as it
    comes (and appended to `output`)."""
    rows = []
    for run in runs:
        row = run_isolated(run)
        rows.append(row)
        print(json.dumps(row), flush=True)
        if output:
            append_rows(output, [row])
    return rows


def run_plan(args: argparse.Namespace, plan: Callable[[Path], List[dict]], baseline: Optional[str] = None) -> List[dict]:
    """A training benchmark's main: with --table-from, the table of those rows; else
    `plan(folder)` (checks, converts the data into the temporary folder and lists the
    runs), every run in a subprocess of its own, then the table of their rows."""
    if args.table_from:
        print(score_table([row for row in read_rows(args.table_from) if "score" in row], baseline))
        return []
    with tempfile.TemporaryDirectory() as tmp:
        rows = run_all(plan(Path(tmp)), args.output)
    print()
    print(score_table(rows, baseline))
    return rows


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments every training benchmark takes: data, seeds, smoke-run sizes, rows."""
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--seeds", default="0", help="Comma-separated training seeds")
    parser.add_argument("--dev-docs", type=int, default=None, help="Score on only this many dev docs (smoke runs)")
    parser.add_argument("--output", type=Path, default=None, help="Append the rows as JSON lines here")
    parser.add_argument("--table-from", type=Path, nargs="+", default=None,
                        help="Print the table of rows saved by --output (several runs' files) and exit")


def seeds(text: str) -> List[int]:
    return [int(seed) for seed in text.split(",")]


def chosen_budget(minutes: Optional[float], steps: Optional[int]) -> Dict[str, float]:
    """A script's --steps when given (equal steps), else its minutes (equal wall clock)."""
    return budget(steps=steps) if steps else budget(seconds=60 * minutes)


# ---- rows and tables ----

def append_rows(path: Path, rows: Iterable[dict]) -> None:
    with Path(path).open("a", encoding="utf8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")


def read_rows(paths: Iterable[Path]) -> List[dict]:
    """The JSON-lines rows in each file, in order."""
    paths = [Path(p) for p in paths]
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        raise SystemExit(f"No such rows file: {', '.join(missing)}")
    return [json.loads(line) for path in paths for line in path.read_text(encoding="utf8").splitlines() if line.strip()]


def mean_sd(values: Sequence[float]) -> tuple:
    """Mean and sample standard deviation (0.0 for a single value)."""
    return statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def format_mean_sd(values: Sequence[float], digits: int = 2) -> str:
    """`mean ± sd`; the mean alone for one value."""
    mean, sd = mean_sd(values)
    return f"{mean:.{digits}f} ± {sd:.{digits}f}" if len(values) > 1 else f"{mean:.{digits}f}"


def markdown_table(header: Sequence[str], rows: Iterable[Sequence], aligns: str = "") -> str:
    """A markdown table; `aligns` one letter a column, "l" or "r" (default: "l")."""
    aligns = aligns.ljust(len(header), "l")
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" if a == "r" else "---" for a in aligns) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _order(values: Iterable[str], known: Sequence[str]) -> Dict[str, int]:
    seen = list(dict.fromkeys(values))
    return {value: (known.index(value) if value in known else len(known) + seen.index(value)) for value in seen}


COST_COLUMNS = ("steps", "epochs", "train_words_s", "later_s_per_step", "infer_words_s", "cache_mb")


def summarize(rows: Sequence[dict]) -> List[dict]:
    """Rows grouped by (task, system, variant, budget), in the tables' order: n, the dev
    score's mean and sd over seeds (percent), and the mean of each cost column."""
    groups: Dict[tuple, List[dict]] = {}
    for row in rows:
        key = (row["task"], row["system"], row.get("variant", ""), budget_label(row.get("budget")))
        groups.setdefault(key, []).append(row)
    orders = [_order((k[0] for k in groups), list(TASKS)), _order((k[1] for k in groups), list(SYSTEMS)),
              _order((k[2] for k in groups), []), _order((k[3] for k in groups), [])]
    out = []
    for key in sorted(groups, key=lambda k: tuple(order[part] for order, part in zip(orders, k))):
        runs = groups[key]
        scores = [100 * r["score"] for r in runs]
        mean, sd = mean_sd(scores)
        costs = {}
        for column in COST_COLUMNS:
            values = [r[column] for r in runs if r.get(column) is not None]
            costs[column] = statistics.mean(values) if values else None
        out.append({**dict(zip(("task", "system", "variant", "budget"), key)), "n": len(runs), "mean": mean, "sd": sd,
                    "scores": scores, **costs})
    return out


def _cell(value, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def score_table(rows: Sequence[dict], baseline: Optional[str] = None) -> str:
    """The markdown table of `summarize(rows)`; with `baseline` (a variant name) a column
    of each group's mean minus that variant's, for the same task, system and budget."""
    summary = summarize(rows)
    with_variant = any(s["variant"] for s in summary)
    base = {(s["task"], s["system"], s["budget"]): s["mean"] for s in summary
            if baseline is not None and s["variant"] == baseline}
    header = ["task", "system"] + (["variant"] if with_variant else []) + ["budget", "seeds", "dev score (mean ± sd)"]
    header += (["vs " + baseline] if baseline is not None else []) + [
        "steps", "epochs", "train words/s", "s/step after epoch 1", "inference words/s", "feature cache MB"]
    lines = []
    for s in summary:
        kind = TASKS[s["task"]].kind if s["task"] in TASKS else ""
        cells = [s["task"], s["system"]] + ([s["variant"] or "-"] if with_variant else [])
        cells += [s["budget"], s["n"], f"{METRIC_NAMES.get(kind, '')} {format_mean_sd(s['scores'])}".strip()]
        if baseline is not None:
            reference = base.get((s["task"], s["system"], s["budget"]))
            cells.append("-" if reference is None or s["variant"] == baseline else f"{s['mean'] - reference:+.2f}")
        cells += [_cell(s["steps"], ".0f"), _cell(s["epochs"], ".1f"), _cell(s["train_words_s"], ".0f"),
                  _cell(s["later_s_per_step"], ".3f"), _cell(s["infer_words_s"], ".0f"), _cell(s["cache_mb"], ".0f")]
        lines.append(cells)
    aligns = "ll" + ("l" if with_variant else "") + "lrl" + ("r" if baseline is not None else "") + "rrrrrr"
    return markdown_table(header, lines, aligns)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--table-from", type=Path, nargs="+", default=None, help="Print the table of these rows files")
    parser.add_argument("--baseline", default=None, help="With --table-from: a variant to compare the others with")
    parser.add_argument("--run-one", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run_one:
        print(json.dumps(run_one(json.loads(args.run_one))))
    elif args.table_from:
        print(score_table(read_rows(args.table_from), args.baseline))
    else:
        parser.print_help()


if __name__ == "__main__":
    main()
