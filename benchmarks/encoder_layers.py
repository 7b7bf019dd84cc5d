"""What cutting the frozen encoder to its lower layers costs a stacked pipeline (issue 23).

The stacked tok2vec's `EncoderFeatures` mixes the hidden states in `layers`; the layers
above the highest one never run, so `[0, 1, 2]` runs two of a 4-layer encoder's layers
and `[0]` runs none (the warm-started piece embeddings alone). Each variant trains the
`stacked+ft` system (benchmarks/harness.py) on the same steps and seeds; `wv_vectors`
keeps the default layers that the cut encoder still computes.

    python benchmarks/encoder_layers.py --encoder training/encoder --vectors corpus/fasttext_vectors \
        --tasks conll --variants all,0-2,0 --steps 1400 --seeds 0,1,2 \
        --save-dir training/layers --output benchmarks/encoder_layers_rows.jsonl
    python benchmarks/encoder_layers.py --table-from benchmarks/encoder_layers_rows.jsonl

Equal steps, not equal wall clock: a cut encoder encodes the training docs faster, so at
equal minutes it would also get more updates; equal steps compare the features alone.
With --save-dir each trained pipeline is kept (DIR/TASK-VARIANT-sSEED) for
`benchmarks/inference_speed.py`, which times them on an idle machine.
"""
import argparse
from pathlib import Path
from typing import Dict, List, Optional

import harness

VARIANTS: Dict[str, Optional[List[int]]] = {"all": None, "0-3": [0, 1, 2, 3], "0-2": [0, 1, 2], "0-1": [0, 1],
                                            "0": [0]}
WV_VECTORS_LAYERS = [0, 1, 2]  # configs/*_stacked.cfg


def overrides(variant: str) -> Dict[str, object]:
    layers = VARIANTS[variant]
    kept = WV_VECTORS_LAYERS if layers is None else [i for i in WV_VECTORS_LAYERS if i in layers]
    return {"components.tok2vec.model.features.layers": "null" if layers is None else str(layers),
            "components.wv_vectors.layers": str(kept)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--encoder", type=Path, help="Pretrained encoder dir")
    parser.add_argument("--vectors", type=Path, help="spaCy vectors dir (fastText)")
    parser.add_argument("--tasks", default="conll")
    parser.add_argument("--variants", default="all,0-2,0", help=f"Comma-separated, of {list(VARIANTS)}")
    parser.add_argument("--steps", type=int, default=1400, help="Updates per run (stacked+ft's 7 CoNLL minutes)")
    parser.add_argument("--train-docs", type=int, default=None, help="Use only this many training docs")
    parser.add_argument("--save-dir", type=Path, default=None, help="Keep each trained pipeline here")
    harness.add_run_arguments(parser)
    args = parser.parse_args()

    def plan(folder: Path) -> List[dict]:
        tasks, variants = args.tasks.split(","), args.variants.split(",")
        harness.check_names(tasks, ["stacked+ft"])
        unknown = [v for v in variants if v not in VARIANTS]
        if unknown:
            raise SystemExit(f"Unknown variants {unknown}; choose from {list(VARIANTS)}")
        harness.check_inputs(["stacked+ft"], args.encoder, args.vectors)
        runs = []
        for task in tasks:
            paths = harness.convert(task, args.data_dir, folder, args.train_docs, args.dev_docs)
            runs += [harness.spec(task, "stacked+ft", paths, harness.budget(steps=args.steps), seed, args.encoder,
                                  args.vectors, overrides(variant), variant, infer=False,
                                  save_to=args.save_dir / f"{task}-{variant}-s{seed}" if args.save_dir else None)
                     for seed in harness.seeds(args.seeds) for variant in variants]
        return runs

    harness.run_plan(args, plan, baseline="all")


if __name__ == "__main__":
    main()
