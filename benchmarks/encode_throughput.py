"""Throughput of `encode`: MB/s and tokens/s of raw text -> token shards, and peak memory.

    python benchmarks/encode_throughput.py TOKENIZER_DIR INPUT... [--workers N] [--repeat 1]

Encodes the inputs into a temporary directory (removed afterwards) and prints one row
per run: MB read per second, tokens per second, seconds, and the peak resident memory of
this process and of its worker processes (ru_maxrss), so that memory staying flat in the
corpus size can be checked by running it on a slice and on the whole corpus. On a busy
machine wall-clock MB/s says more about the other jobs than about encode; the CPU
seconds (this process, and the workers) show where the time went.
"""
import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

import spacy_wv  # noqa: F401 (offline settings)
from spacy_wv.corpus.encode import encode_corpus
from spacy_wv.corpus.text import ReadStats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tokenizer", type=Path)
    parser.add_argument("inputs", type=Path, nargs="+")
    parser.add_argument("--workers", type=int, default=None, help="encode workers (default: encode's own default)")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    kwargs = {} if args.workers is None else {"workers": args.workers}
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"{'run':>4} {'MB':>8} {'s':>7} {'MB/s':>7} {'tokens/s':>11} {'main CPU s':>11} {'workers CPU s':>14} "
          f"{'peak MB':>8} {'workers peak MB':>16}")
    for run in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            stats = ReadStats()
            before = cpu_seconds()
            start = time.perf_counter()
            meta = encode_corpus(args.tokenizer, args.inputs, Path(tmp) / "shards", stats=stats, **kwargs)
            seconds = time.perf_counter() - start
            main_cpu, workers_cpu = (after - b for after, b in zip(cpu_seconds(), before))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"{run:>4} {stats.bytes_read / 1e6:>8.1f} {seconds:>7.1f} {stats.bytes_read / 1e6 / seconds:>7.2f} "
              f"{meta['n_tokens'] / seconds:>11,.0f} {main_cpu:>11.1f} {workers_cpu:>14.1f} {peak:>8.0f} {children:>16.0f}")


def cpu_seconds():
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, children.ru_utime + children.ru_stime


if __name__ == "__main__":
    main()
