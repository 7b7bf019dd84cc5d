"""Dev-set ablations of the fine-tuning options, one change at a time from configs/ner.cfg
and configs/textcat.cfg: the listener (our scalar mix vs spacy-transformers' last-layer
listener), subword pooling, and each regulariser (dropout, weight decay, label
smoothing, input-embedding noise, entity-swap / token-noise augmentation).

    python benchmarks/ablations.py --encoder training/encoder --steps 2000
    python benchmarks/ablations.py --encoder training/demo/encoder --steps 50 \
        --ner-docs 60 --textcat-docs 500 --only baseline,stock-listener   # smoke run

Every ablation is a variant of the `finetuned` system of benchmarks/harness.py (its
config overrides), trained `--steps` updates (warm-up over the first 10%, linear decay
to zero) in a subprocess of its own. Prints the harness's markdown table of dev scores
(NER F1, textcat accuracy) with the difference to the unchanged config. The score is
the final model's: before the harness, `spacy train` kept the best of five evaluations
(benchmarks/RESULTS.md's ablation tables were measured that way). `--output` appends
the rows as JSON lines; `--seeds 0,1,2` gives mean ± sd.
"""
import argparse
import json
from pathlib import Path
from typing import Dict, List

import harness
from ner_budget import convert_tasks, parse_common_args

from spacy_wv.pretraining.architecture import DROPOUT_FIELDS

NER_LISTENER = "components.ner.model.tok2vec"
TEXTCAT_LISTENER = "components.textcat.model.tok2vec"
STOCK_LISTENER = '"spacy-transformers.TransformerListener.v1"'


# The encoder's own dropout: spaCy's `training.dropout` only reaches thinc Dropout
# layers, and the ner / textcat heads on a listener have none, so on its own it changes
# nothing here. The transformer's dropout is in its HF config, overridden through
# transformer_config, under names that depend on the model family.
def _dropout(encoder: Path, rate: float) -> Dict[str, object]:
    model_type = json.loads((encoder / "config.json").read_text())["model_type"]
    fields = {f"components.transformer.model.transformer_config.{name}": rate for name in DROPOUT_FIELDS[model_type]}
    return {"training.dropout": rate, **fields}


def _ablations(train_path: Path, encoder: Path) -> Dict[str, Dict[str, Dict[str, object]]]:
    """name -> task -> config overrides. The NER augmenters read the training corpus."""
    return {
        "baseline": {"ner": {}, "textcat": {}},
        # The config's pooling, but only the last hidden layer and no learned mix.
        "stock-listener": {
            "ner": {f"{NER_LISTENER}.@architectures": STOCK_LISTENER},
            "textcat": {f"{TEXTCAT_LISTENER}.@architectures": STOCK_LISTENER},
        },
        # The mix starting at 65% on the last layer instead of an even average.
        "mix-init-last": {
            "ner": {f"{NER_LISTENER}.last_layer_logit": 2.0},
            "textcat": {f"{TEXTCAT_LISTENER}.last_layer_logit": 2.0},
        },
        **{f"pooling-{mode}": {"ner": {f"{NER_LISTENER}.pooling.mode": mode},
                               "textcat": {f"{TEXTCAT_LISTENER}.pooling.mode": mode}}
           for mode in ("first", "last", "mean", "first_last")},
        "no-dropout": {"ner": _dropout(encoder, 0.0), "textcat": _dropout(encoder, 0.0)},
        "dropout-0.3": {"ner": _dropout(encoder, 0.3), "textcat": _dropout(encoder, 0.3)},
        "no-weight-decay": {"ner": {"training.optimizer.L2": 0.0}, "textcat": {"training.optimizer.L2": 0.0}},
        "no-label-smoothing": {"textcat": {"components.textcat.label_smoothing": 0.0}},
        "embedding-noise-0.05": {"ner": {"components.transformer.model.embedding_noise": 0.05},
                                 "textcat": {"components.transformer.model.embedding_noise": 0.05}},
        "entity-swap": {"ner": {
            "corpora.train.augmenter": '{"@augmenters":"spacy_wv.EntitySwapAugmenter.v1","corpus":"%s","level":0.3}' % train_path}},
        "token-noise": {
            "ner": {"corpora.train.augmenter": '{"@augmenters":"spacy_wv.TokenNoiseAugmenter.v1","level":0.3,"token_prob":0.1}'},
            "textcat": {"corpora.train.augmenter": '{"@augmenters":"spacy_wv.TokenNoiseAugmenter.v1","level":0.3,"token_prob":0.1}'},
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--only", default=None, help="Comma-separated ablation names (default: all)")
    args = parse_common_args(parser)

    def plan(folder: Path) -> List[dict]:
        data = convert_tasks(args, folder)
        ablations = _ablations(data["ner"][1]["train"] if "ner" in data else None, args.encoder)
        names = args.only.split(",") if args.only else list(ablations)
        unknown = set(names) - set(ablations)
        if unknown:
            raise SystemExit(f"Unknown ablation(s) {sorted(unknown)}; known: {', '.join(ablations)}")
        return [harness.spec(task, "finetuned", paths, harness.budget(steps=args.steps), seed, args.encoder,
                             overrides=ablations[name][short], variant=name)
                for name in names for short, (task, paths) in data.items() if short in ablations[name]
                for seed in harness.seeds(args.seeds)]

    harness.run_plan(args, plan, baseline="baseline")

if __name__ == "__main__":
    main()
