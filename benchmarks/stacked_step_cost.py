"""Cost of a training step of the stacked pipeline against the CNN baseline, once the
features are cached (after the first epoch), measured fairly on a shared machine.

Both pipelines are built from their configs (with the same static vectors or none),
the stacked one's feature cache is filled with the training docs first, and then the
two take turns updating on the same batches, so that whatever else the machine does
slows both alike. Prints seconds per step and the ratio.

    python benchmarks/stacked_step_cost.py --encoder training/encoder --vectors corpus/fasttext_vectors
"""
import argparse
import statistics
import tempfile
import time
from pathlib import Path

import harness


def build(task: str, system: str, paths: dict, encoder: Path, vectors: Path):
    from spacy.training.initialize import init_nlp
    from spacy.util import registry, resolve_dot_names

    config = harness.system_config(task, system, paths["train"], paths["dev"], encoder, vectors)
    nlp = init_nlp(config)
    T = registry.resolve(config.interpolate()["training"])
    (train_corpus,) = resolve_dot_names(config.interpolate(), [T["train_corpus"]])
    return nlp, T["optimizer"], list(train_corpus(nlp))


def main() -> None:
    from spacy.util import minibatch

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--encoder", type=Path, required=True)
    parser.add_argument("--vectors", type=Path, default=None)
    parser.add_argument("--data-dir", type=Path, default=harness.DATA_DIR)
    parser.add_argument("--task", default="conll")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--batch-docs", type=int, default=10, help="CoNLL docs of 10 sentences: ~1,500 words")
    args = parser.parse_args()
    suffix = "+ft" if args.vectors else ""
    with tempfile.TemporaryDirectory() as tmp:
        paths = harness.convert(args.task, args.data_dir, Path(tmp))
        cnn, cnn_opt, examples = build(args.task, "cnn" + suffix, paths, args.encoder, args.vectors)
        stacked, stacked_opt, _ = build(args.task, "stacked" + suffix, paths, args.encoder, args.vectors)
    batches = list(minibatch(examples, args.batch_docs))
    started = time.perf_counter()
    features = stacked.get_pipe("tok2vec").model.get_ref("features")
    for batch in batches:  # the first epoch: fill the cache
        features.predict([eg.predicted for eg in batch])
    fill_s = time.perf_counter() - started
    times = {"cnn": [], "stacked": []}
    for step in range(args.steps):
        batch = batches[step % len(batches)]
        for name, nlp, optimizer in (("cnn", cnn, cnn_opt), ("stacked", stacked, stacked_opt)):
            t0 = time.perf_counter()
            nlp.update(batch, sgd=optimizer, drop=0.1)
            times[name].append(time.perf_counter() - t0)
    cache = features.shims[0].cache
    cnn_s, stacked_s = statistics.median(times["cnn"]), statistics.median(times["stacked"])
    print(harness.markdown_table(
        ["task", "vectors", "steps", "CNN s/step", "stacked s/step", "ratio", "cache fill s", "cache MB", "cache hits"],
        [[args.task, "yes" if args.vectors else "no", args.steps, f"{cnn_s:.3f}", f"{stacked_s:.3f}", f"{stacked_s / cnn_s:.2f}",
          f"{fill_s:.0f}", f"{cache.n_bytes / 2**20:.0f}", cache.hits]], "llrrrrrrr"))


if __name__ == "__main__":
    main()
