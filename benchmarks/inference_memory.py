"""Resident memory of inference over many documents: `nlp.pipe` with a stacked pipeline,
and `vectors export`. Does it stay bounded?

    python benchmarks/inference_memory.py pipe ENCODER_DIR TEXT... [--docs 100000] [--every 10000] [--config configs/ner_stacked.cfg]
    python benchmarks/inference_memory.py export ENCODER_DIR TEXT... [--seconds 10] [--n-words 30000] [--contexts 20]

`pipe` builds the config's pipeline on the encoder (initialized, untrained: the same
computation as a trained one), saves and loads it as users get it (the feature cache is
off in a loaded pipeline), then runs `nlp.pipe` over the non-blank lines of TEXT, cycled
until `--docs`, printing the resident memory every `--every` docs. `export` runs
`export_vectors` and prints the memory every `--seconds`. Columns as in
pretrain_memory.py: RSS, its anonymous part, the change since the first row, the peak.
"""
import argparse
import itertools
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Iterator, List

from pretrain_memory import memory

import spacy_wv  # noqa: F401 (offline settings)

REPO = Path(__file__).resolve().parents[1]
HEADER = f"{'docs':>8} {'min':>6} {'RSS MB':>8} {'anon MB':>8} {'change':>8} {'peak MB':>8}"


class Rows:
    def __init__(self):
        self.started = time.perf_counter()
        self.first = None

    def print(self, label) -> None:
        now = memory()
        self.first = self.first if self.first is not None else now["VmRSS"]
        print(f"{label:>8} {(time.perf_counter() - self.started) / 60:>6.1f} {now['VmRSS']:>8.0f} {now['RssAnon']:>8.0f} "
              f"{now['VmRSS'] - self.first:>+8.0f} {now['VmHWM']:>8.0f}", flush=True)


def lines(paths: List[Path]) -> Iterator[str]:
    for path in itertools.cycle(paths):
        with path.open(encoding="utf8") as file:
            yield from (line.strip() for line in file if line.strip())


def run_pipe(args) -> None:
    import spacy
    from spacy.training import Example
    from spacy.util import load_config, load_model_from_config

    config = load_config(args.config, overrides={"paths.train": "x", "paths.dev": "y", "paths.encoder": str(args.encoder),
                                                 "components.wv_vectors.anisotropy": "none"})
    built = load_model_from_config(config.interpolate(), auto_fill=True, validate=True)
    example = Example.from_dict(built.make_doc("Peter Blackburn visited Brussels ."), {"entities": [(0, 15, "PER"), (24, 32, "LOC")]})
    built.initialize(lambda: [example])
    with tempfile.TemporaryDirectory() as tmp:
        built.to_disk(tmp)
        del built
        nlp = spacy.load(tmp)
    rows = Rows()
    print(HEADER)
    for n, _ in enumerate(nlp.pipe(itertools.islice(lines(args.text), args.docs), batch_size=args.batch_size), start=1):
        if n % args.every == 0:
            rows.print(n)


def run_export(args) -> None:
    from spacy_wv.hf_dirs import load_encoder
    from spacy_wv.vectors.export import ExportSettings, export_vectors

    model, tokenizer = load_encoder(args.encoder)
    rows = Rows()
    print(HEADER.replace("    docs", " seconds"))
    done = threading.Event()

    def sample():
        while not done.wait(args.seconds):
            rows.print(round(time.perf_counter() - rows.started))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        export_vectors(model, tokenizer, args.text, ExportSettings(n_words=args.n_words, contexts=args.contexts).check())
    finally:
        done.set()
        rows.print("end")


def main(argv: List[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["pipe", "export"])
    parser.add_argument("encoder", type=Path)
    parser.add_argument("text", type=Path, nargs="+")
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--every", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--config", type=Path, default=REPO / "configs" / "ner_stacked.cfg")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--n-words", type=int, default=30_000)
    parser.add_argument("--contexts", type=int, default=20)
    args = parser.parse_args(argv)
    (run_pipe if args.mode == "pipe" else run_export)(args)


if __name__ == "__main__":
    main(sys.argv[1:])
