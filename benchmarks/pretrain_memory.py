"""Resident memory of `spacy_wv pretrain`, every N steps: does it stay flat?

    python benchmarks/pretrain_memory.py CONFIG --paths.train SHARDS --paths.tokenizer TOK [--section.key value ...]
        [--every 50] [--tracemalloc] [--keep OUT_DIR]

Runs the pretraining in this process (into a temporary output directory unless
`--keep`), with `--training.log_every` set to `--every`, and prints a row each time a
row reaches metrics.jsonl: step, minutes, resident memory (RSS), its anonymous part
(heap, tensors; the rest is mapped files such as the token shards and libraries), the
change since the first row and the peak so far. `--tracemalloc` also traces Python's own
allocations and prints the sites that grew most between the first and the last row:
growth in RSS that tracemalloc does not see is native (torch, glibc's heap).
"""
import argparse
import json
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Dict, List, Optional

import spacy_wv  # noqa: F401 (offline settings)
from spacy_wv.pretraining.loop import METRICS_FILE

POLL_SECONDS = 0.2


def memory() -> Dict[str, float]:
    """VmRSS, RssAnon and VmHWM of this process, in MB (Linux)."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields


class Sampler(threading.Thread):
    """Watches metrics.jsonl and records memory at each new step."""

    def __init__(self, metrics: Path, trace: bool):
        super().__init__(daemon=True)
        self.metrics, self.trace = metrics, trace
        self.rows: List[Dict] = []
        self.snapshots: List[tracemalloc.Snapshot] = []
        self.started = time.perf_counter()
        self.done = threading.Event()

    def run(self) -> None:
        seen = 0
        while not self.done.is_set():
            lines = self.metrics.read_text(encoding="utf8").splitlines() if self.metrics.exists() else []
            for line in lines[seen:]:
                self.record(json.loads(line)["step"])
            seen = max(seen, len(lines))
            time.sleep(POLL_SECONDS)

    def record(self, step: int) -> None:
        if self.rows and self.rows[-1]["step"] == step:  # the eval row of a step already logged
            return
        row = {"step": step, "minutes": (time.perf_counter() - self.started) / 60, **memory()}
        self.rows.append(row)
        if self.trace:  # the first row's and the latest
            self.snapshots = self.snapshots[:1] + [tracemalloc.take_snapshot()]
        first = self.rows[0]["VmRSS"]
        print(f"{step:>7} {row['minutes']:>7.1f} {row['VmRSS']:>9.0f} {row['RssAnon']:>9.0f} "
              f"{row['VmRSS'] - first:>+8.0f} {row['VmHWM']:>9.0f}", flush=True)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path)
    parser.add_argument("--every", type=int, default=50, help="steps between rows (sets --training.log_every)")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python allocations")
    parser.add_argument("--keep", type=Path, default=None, help="pretrain into this directory and keep it")
    args, overrides = parser.parse_known_args(argv)
    from spacy.cli._util import parse_config_overrides

    from spacy_wv.pretraining.config import load_pretrain_config, resolve_settings
    from spacy_wv.pretraining.loop import pretrain

    settings = resolve_settings(load_pretrain_config(args.config, {
        **parse_config_overrides(overrides), "training.log_every": args.every}))
    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or Path(tmp) / "model"
        if args.tracemalloc:
            tracemalloc.start(10)
        sampler = Sampler(out / METRICS_FILE, args.tracemalloc)
        print(f"{'step':>7} {'min':>7} {'RSS MB':>9} {'anon MB':>9} {'change':>8} {'peak MB':>9}")
        sampler.start()
        try:
            pretrain(settings, out)
        finally:
            time.sleep(2 * POLL_SECONDS)
            sampler.done.set()
            sampler.join()
    if len(sampler.snapshots) == 2:
        print("\nPython allocations that grew most from the first row to the last (tracemalloc):")
        for stat in sampler.snapshots[1].compare_to(sampler.snapshots[0], "traceback")[:10]:
            print(f"{stat.size_diff / 2**20:+9.1f} MB {stat.count_diff:+9d} blocks  " + " <- ".join(
                f"{Path(frame.filename).name}:{frame.lineno}" for frame in stat.traceback[:4]))


if __name__ == "__main__":
    main(sys.argv[1:])
