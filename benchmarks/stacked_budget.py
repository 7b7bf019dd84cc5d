"""Stacked features against spaCy's CNN, at equal wall clock (or equal steps).

Systems (benchmarks/harness.py): `cnn` (ner_baseline / textcat_baseline), `cnn+ft` (the
same with same-corpus fastText vectors), `stacked` (ner_stacked / textcat_stacked: CNN +
frozen encoder features), `stacked+ft`, and `finetuned` (ner / textcat: the whole encoder
fine-tuned, for reference); for SST-2 only also `bow` (textcat_bow: spaCy's bag-of-words
textcat), `ensemble` and `ensemble+ft` (textcat_ensemble: spaCy's ensemble of it with the
stacked tok2vec). Tasks: CoNLL-2003, WNUT-17 and WikiANN NER (dev F1) and SST-2 (dev
accuracy).

Every (task, seed, system) is one harness run in a subprocess of its own: spaCy's loop
until the budget's seconds are spent (or `--steps` are done), warm-up over the first
10% and linear decay to zero at the end, initialization outside the clock and the
stacked systems' one-off feature encoding inside it; then the dev score, and `nlp.pipe`
words/s of the pipeline reloaded from disk (see benchmarks/harness.py).

    python benchmarks/stacked_budget.py --encoder training/encoder --vectors training/fasttext_vectors \
        --tasks conll,sst2 --seeds 0,1,2
    python benchmarks/stacked_budget.py --encoder training/demo/encoder --vectors DIR \
        --tasks conll --minutes 0.5 --train-docs 50 --dev-docs 50     # smoke run
    python benchmarks/stacked_budget.py --encoder training/encoder --vectors training/fasttext_vectors \
        --tasks sst2 --systems cnn+ft,bow,stacked+ft,ensemble+ft --seeds 0,1,2   # the textcat-only systems
    python benchmarks/stacked_budget.py --table-from rows1.jsonl rows2.jsonl   # one table from saved rows

Threads follow OMP_NUM_THREADS / torch's default. The table gives mean ± standard
deviation over seeds.
"""
import argparse
from pathlib import Path
from typing import List

import harness


def run_one(spec: dict) -> dict:
    """The GPU kit's entry (benchmarks/gpu/run.py): a harness run whose budget is
    `steps` when non-zero, else `seconds`."""
    spent = harness.budget(steps=spec["steps"]) if spec.get("steps") else harness.budget(seconds=spec["seconds"])
    return harness.run_one({**spec, "budget": spent})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--encoder", type=Path, help="Pretrained encoder dir (for stacked and finetuned)")
    parser.add_argument("--vectors", type=Path, help="spaCy vectors dir (for the +ft systems)")
    parser.add_argument("--tasks", default="conll,sst2")
    parser.add_argument("--systems", default="cnn,cnn+ft,stacked,stacked+ft,finetuned",
                        help="Also bow, ensemble, ensemble+ft (textcat tasks only)")
    parser.add_argument("--minutes", type=float, default=None, help="Budget per run (default: 7 for NER, 4 for SST-2)")
    parser.add_argument("--steps", type=int, default=0, help="Equal steps instead of equal wall clock")
    parser.add_argument("--train-docs", type=int, default=None, help="Use only this many training docs")
    parser.add_argument("--save-dir", type=Path, default=None,
                        help="Keep each trained pipeline here (DIR/TASK-SYSTEM-sSEED, for inference_speed.py)")
    harness.add_run_arguments(parser)
    args = parser.parse_args()

    def plan(folder: Path) -> List[dict]:
        tasks, systems = args.tasks.split(","), args.systems.split(",")
        harness.check_names(tasks, systems)
        harness.check_inputs(systems, args.encoder, args.vectors)
        runs = []
        for task in tasks:
            paths = harness.convert(task, args.data_dir, folder, args.train_docs, args.dev_docs)
            minutes = args.minutes if args.minutes is not None else harness.TASKS[task].minutes
            runs += [harness.spec(task, system, paths, harness.chosen_budget(minutes, args.steps), seed,
                                  args.encoder, args.vectors,
                                  save_to=args.save_dir / f"{task}-{system}-s{seed}" if args.save_dir else None)
                     for seed in harness.seeds(args.seeds) for system in systems]
        return runs

    harness.run_plan(args, plan)

if __name__ == "__main__":
    main()
