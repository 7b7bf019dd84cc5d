"""Equal-compute comparison: spaCy's CNN baseline vs the whole pretrained encoder
fine-tuned, same wall-clock training budget, on CoNLL-2003 NER (dev F1) and SST-2 (dev
accuracy).

Tasks `ner` (CoNLL-2003) and `textcat` (SST-2); systems `cnn` (ner_baseline.cfg /
textcat_baseline.cfg) and `finetuned` (ner.cfg / textcat.cfg). Every run goes through
benchmarks/harness.py: spaCy's loop until the budget's seconds are spent (`--steps`:
that many updates instead), initialization outside the clock; the table gives the
seconds and steps each system actually got.

    python benchmarks/ner_budget.py --encoder training/encoder --budget-minutes 30
    python benchmarks/ner_budget.py --encoder training/demo/encoder --budget-minutes 1 \
        --ner-docs 100 --textcat-docs 1000 --dev-docs 50   # smoke run

Until the harness, this script calibrated a number of steps from a 20-step run and gave
each system budget / seconds-per-step steps; that protocol under-counted systems whose
first steps cost more than later ones (benchmarks/RESULTS.md marks its tables
superseded). `--output` appends the rows as JSON lines (it wrote one JSON list).
"""
import argparse
from pathlib import Path
from typing import List

import harness

TASKS = {"ner": "conll", "textcat": "sst2"}  # this script's task names
SYSTEMS = ("cnn", "finetuned")


def parse_common_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """The arguments this script shares with ablations.py; checks the encoder dir."""
    parser.add_argument("--encoder", type=Path, default=None, help="Pretrained encoder dir (spacy_wv pretrain output)")
    parser.add_argument("--ner-docs", type=int, default=None, help="Use only this many CoNLL training docs")
    parser.add_argument("--textcat-docs", type=int, default=None, help="Use only this many SST-2 training sentences")
    parser.add_argument("--tasks", default="ner,textcat")
    harness.add_run_arguments(parser)
    args = parser.parse_args()
    unknown = [task for task in args.tasks.split(",") if task not in TASKS]
    if unknown:
        raise SystemExit(f"Unknown task(s) {unknown}; tasks {list(TASKS)}")
    return args


def convert_tasks(args, out: Path) -> dict:
    """This script's task name -> the harness task and its converted files (after
    checking the encoder)."""
    harness.check_inputs(["finetuned"], args.encoder, None)
    docs = {"ner": args.ner_docs, "textcat": args.textcat_docs}
    return {task: (TASKS[task], harness.convert(TASKS[task], args.data_dir, out, docs[task], args.dev_docs))
            for task in args.tasks.split(",")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget-minutes", type=float, default=30.0)
    parser.add_argument("--steps", type=int, default=0, help="Equal steps instead of equal wall clock")
    args = parse_common_args(parser)

    def plan(folder: Path) -> List[dict]:
        spent = harness.chosen_budget(args.budget_minutes, args.steps)
        return [harness.spec(task, system, paths, spent, seed, args.encoder)
                for task, paths in convert_tasks(args, folder).values()
                for seed in harness.seeds(args.seeds) for system in SYSTEMS]

    harness.run_plan(args, plan)

if __name__ == "__main__":
    main()
