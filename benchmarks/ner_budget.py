"""Equal-compute comparison: spaCy's CNN baseline vs our pretrained-encoder pipeline,
same wall-clock training budget, on CoNLL-2003 NER (dev F1) and SST-2 (dev accuracy).

spaCy's training loop has no time limit, so the budget becomes `max_steps`: a short
calibration run (CALIBRATION_STEPS steps, evaluated on a few dev docs only so that
evaluation hardly counts) measures seconds per step for each system, and the real run
gets budget / seconds_per_step steps, evaluated on the full dev set only at its start
and end. Model loading and initialization are not counted (the loop's own clock); the
table shows the seconds actually used, final evaluation included.

    python benchmarks/ner_budget.py --encoder training/encoder --budget-minutes 30
    python benchmarks/ner_budget.py --encoder training/demo/encoder --budget-minutes 1 \
        --ner-docs 100 --textcat-docs 1000   # smoke run

Needs the .spacy files of `spacy project run convert` (or converts the raw data itself).
"""
import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Optional

REPO = Path(__file__).resolve().parent.parent
CALIBRATION_STEPS = 20
CALIBRATION_DEV_DOCS = 5
SYSTEMS = {"ner": ("ner_baseline.cfg", "ner.cfg"), "textcat": ("textcat_baseline.cfg", "textcat.cfg")}
SCORE_KEYS = {"ner": "ents_f", "textcat": "cats_micro_f"}
# The configs warm up over 200 steps; short runs warm up over a tenth of their steps.
WARMUP = "training.optimizer.learn_rate.warmup_steps"


def train_and_score(config: Path, output: Path, train: Path, dev: Path, task: str,
                    overrides: Dict[str, object], encoder: Optional[Path] = None) -> dict:
    """`spacy train` in a subprocess; returns the best dev score and the loop's own timing."""
    stats_path = output / "training_stats.json"
    args = [sys.executable, "-m", "spacy", "train", str(config), "--output", str(output),
            "--paths.train", str(train), "--paths.dev", str(dev), "--paths.training_stats", str(stats_path)]
    if encoder is not None:
        args += ["--paths.encoder", str(encoder)]
    for key, value in overrides.items():
        args += [f"--{key}", str(value)]
    result = subprocess.run(args, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"Training failed: {' '.join(args)}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    stats = json.loads(stats_path.read_text())
    performance = json.loads((output / "model-best" / "meta.json").read_text())["performance"]
    return {"score": performance[SCORE_KEYS[task]], "seconds": stats["seconds"], "steps": stats["steps"]}


def convert_data(data_dir: Path, out: Path, ner_docs: Optional[int], textcat_docs: Optional[int]) -> Dict[str, tuple]:
    from spacy_wv.corpus.conll import convert_conll
    from spacy_wv.corpus.labeled_text import convert_labeled_text, parse_label_map

    names = parse_label_map("0=negative,1=positive")
    convert_conll(data_dir / "conll2003" / "eng.train", out / "ner_train.spacy", max_docs=ner_docs)
    convert_conll(data_dir / "conll2003" / "eng.testa", out / "ner_dev.spacy")
    convert_labeled_text(data_dir / "sst2" / "train.txt", out / "textcat_train.spacy", label_map=names, max_docs=textcat_docs)
    convert_labeled_text(data_dir / "sst2" / "dev.txt", out / "textcat_dev.spacy", label_map=names)
    convert_conll(data_dir / "conll2003" / "eng.testa", out / "ner_calibration_dev.spacy", max_docs=CALIBRATION_DEV_DOCS)
    convert_labeled_text(data_dir / "sst2" / "dev.txt", out / "textcat_calibration_dev.spacy", label_map=names,
                         max_docs=CALIBRATION_DEV_DOCS)
    return {task: (out / f"{task}_train.spacy", out / f"{task}_dev.spacy", out / f"{task}_calibration_dev.spacy")
            for task in SYSTEMS}


def run_budget(task: str, config_name: str, train: Path, dev: Path, calibration_dev: Path, budget_s: float,
               work: Path, encoder: Optional[Path], seed: int = 0, steps: Optional[int] = None) -> dict:
    """`steps`: train that many steps instead of budget / calibrated seconds per step."""
    config = REPO / "configs" / config_name
    uses_encoder = encoder if "baseline" not in config_name else None
    common: Dict[str, object] = {"system.seed": seed}
    if "[components.wv_vectors]" in config.read_text():
        # Its anisotropy statistics would run the encoder over training docs during
        # initialization, outside the loop's clock, and fill the stacked features' cache;
        # wv_vectors comes after the task component, so scores do not depend on it.
        common["components.wv_vectors.anisotropy"] = "none"
    seconds_per_step = None
    if steps is None:
        calibration = train_and_score(config, work / f"{config.stem}_calibration_seed{seed}", train, calibration_dev, task, {
            **common, "training.max_steps": CALIBRATION_STEPS, "training.eval_frequency": CALIBRATION_STEPS,
            WARMUP: CALIBRATION_STEPS // 10}, uses_encoder)
        seconds_per_step = round(max(calibration["seconds"], 1) / CALIBRATION_STEPS, 3)
        steps = max(int(budget_s / seconds_per_step), CALIBRATION_STEPS)
    run = train_and_score(config, work / f"{config.stem}_seed{seed}", train, dev, task, {
        **common, "training.max_steps": steps, "training.eval_frequency": steps, "training.patience": 0,
        WARMUP: max(steps // 10, 1)}, uses_encoder)
    return {"task": task, "system": "cnn-baseline" if uses_encoder is None else "pretrained-encoder", "seed": seed,
            "budget_s": budget_s, "seconds_per_step": seconds_per_step, **run}


def print_table(rows: List[dict]) -> None:
    print("| task | system | budget s | s/step | steps | used s | dev score |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        metric = "F1" if r["task"] == "ner" else "acc"
        # --steps runs skip the calibration: no budget-derived seconds per step.
        per_step = "-" if r["seconds_per_step"] is None else r["seconds_per_step"]
        print(f"| {r['task']} | {r['system']} | {r['budget_s']:.0f} | {per_step} | {r['steps']} "
              f"| {r['seconds']} | {metric} {100 * r['score']:.2f} |")


def parse_common_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """The arguments this script shares with ablations.py; checks the encoder dir."""
    parser.add_argument("--encoder", type=Path, required=True, help="Pretrained encoder dir (spacy_wv pretrain output)")
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--ner-docs", type=int, default=None, help="Use only this many CoNLL training docs")
    parser.add_argument("--textcat-docs", type=int, default=None, help="Use only this many SST-2 training sentences")
    parser.add_argument("--tasks", default="ner,textcat")
    parser.add_argument("--output", type=Path, default=None, help="Write the rows as JSON here")
    args = parser.parse_args()
    if not (args.encoder / "config.json").is_file():
        raise SystemExit(f"Not an encoder directory (no config.json): {args.encoder}")
    return args


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget-minutes", type=float, default=30.0)
    args = parse_common_args(parser)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data = convert_data(args.data_dir, work, args.ner_docs, args.textcat_docs)
        for task in args.tasks.split(","):
            for config_name in SYSTEMS[task]:
                rows.append(run_budget(task, config_name, *data[task], args.budget_minutes * 60, work, args.encoder))
                print_table(rows[-1:])
    print()
    print_table(rows)
    if args.output:
        args.output.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
