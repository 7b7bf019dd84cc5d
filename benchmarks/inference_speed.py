"""Inference speed and dev score of trained pipelines, fp32 against int8, from disk.

    python benchmarks/inference_speed.py \
        --pipeline cnn+ft=training/ner_baseline_ft/model-best \
        --pipeline stacked+ft=training/ner_stacked/model-best \
        --ner-dev corpus/ner_dev.spacy --textcat-dev corpus/textcat_dev.spacy [--threads 1,2] [--repeats 3]

Each pipeline (NAME=DIR) is measured as saved (fp32) and, when it has an encoder, with
`quantize = "int8"` set as it loads (the frozen encoder of a stacked pipeline, or the
fine-tuned transformer). Every (pipeline, precision, threads) runs in a fresh process:
load from disk (no feature cache), `torch.set_num_threads`, the dev score of the task the
pipeline has (NER F1 or textcat accuracy), then words/s of `nlp.pipe` over the dev texts
as the `.spacy` file holds them (CoNLL: 10 sentences a doc), the median of --repeats
passes, and for NER also with one sentence a doc; the process's peak RSS (the parent's
only, with `--processes`). `--processes 2` adds rows of `nlp.pipe(n_process=2)`, each
worker on one torch thread. `--profile`
adds where one pass's time goes: torch operators by group, and the rest (spaCy, numpy,
Python) as the remainder. Run it on an idle machine: two jobs on two cores slow each
other 2-3x.
"""
import argparse
import json
import resource
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Dict, List

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import harness  # noqa: E402
from spacy_wv.quantized_pipeline import int8_override  # noqa: E402


def task_of(nlp) -> str:
    return "ner" if "ner" in nlp.pipe_names else "textcat"


def words_per_s(nlp, texts: List[str], n_words: int, repeats: int, n_process: int = 1) -> float:
    speeds = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in nlp.pipe(texts, batch_size=64, n_process=n_process):
            pass
        speeds.append(n_words / (time.perf_counter() - started))
    return statistics.median(speeds)


def measure(spec: dict) -> dict:
    import spacy
    import torch
    from spacy.tokens import DocBin
    from spacy.training import Corpus

    torch.set_num_threads(spec["threads"])
    override = int8_override(spec["path"]) if spec["precision"] == "int8" else {}
    if override is None:
        return {}
    started = time.perf_counter()
    nlp = spacy.load(spec["path"], config=override or {})
    load_s = time.perf_counter() - started
    task = task_of(nlp)
    docs = list(DocBin().from_disk(spec["dev"][task]).get_docs(nlp.vocab))
    # As `spacy evaluate` reads them: CoNLL's own tokens where the file has no spacing.
    scores = nlp.evaluate(list(Corpus(spec["dev"][task])(nlp)))
    score = scores["ents_f"] if task == "ner" else scores.get("cats_micro_f")
    texts = [doc.text for doc in docs]
    n_words = sum(len(doc) for doc in docs)
    nlp.pipe(texts[:8])  # warm-up
    n_process = spec.get("processes", 1)
    row = {"name": spec["name"], "precision": spec["precision"], "threads": spec["threads"], "processes": n_process,
           "task": task, "score": round(100 * score, 2),
           "words_per_s": round(words_per_s(nlp, texts, n_words, spec["repeats"], n_process)), "load_s": round(load_s, 1)}
    if task == "ner":
        sentences = [sent.text for doc in docs for sent in doc.sents]
        row["sentence_words_per_s"] = round(words_per_s(nlp, sentences, n_words, spec["repeats"], n_process))
    row["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    if spec.get("profile"):
        row["profile_ms"] = profile(nlp, texts)
    return row


def profile(nlp, texts: List[str]) -> Dict[str, float]:
    """One pass: torch's operators by group (self time), and what is not torch."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    from pretrain_throughput import operator_bucket

    started = time.perf_counter()
    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in nlp.pipe(texts, batch_size=64):
            pass
    total_ms = (time.perf_counter() - started) * 1000
    groups: Counter = Counter()
    for event in prof.key_averages():
        groups[operator_bucket(event.key)] += event.self_cpu_time_total / 1000
    torch_ms = sum(groups.values())
    return {**{f"torch {k}": round(v) for k, v in groups.most_common()},
            "not torch (spaCy, numpy, Python)": round(total_ms - torch_ms), "total": round(total_ms)}


def print_table(rows: List[dict]) -> None:
    fp32 = {(r["name"], r["threads"], r.get("processes", 1)): r for r in rows if r["precision"] == "fp32"}
    table = []
    for r in rows:
        base = fp32.get((r["name"], r["threads"], r.get("processes", 1)))
        speedup = f"{r['words_per_s'] / base['words_per_s']:.2f}x" if base and r is not base else "-"
        delta = f"{r['score'] - base['score']:+.2f}" if base and r is not base else "-"
        threads = f"{r.get('processes', 1)} x {r['threads']}" if r.get("processes", 1) > 1 else r["threads"]
        table.append((r["name"], r["precision"], threads, r["task"], f"{r['score']:.2f}", delta,
                      f"{r['words_per_s']:,}", speedup, f"{r['sentence_words_per_s']:,}" if "sentence_words_per_s" in r else "-",
                      f"{r['peak_rss_mb']:,}"))
    print(harness.markdown_table(("pipeline", "precision", "threads", "task", "dev score", "vs fp32", "words/s", "vs fp32",
                                  "words/s, a sentence a doc", "peak RSS MB"), table, "llrlrrrrrr"))
    for r in rows:
        if "profile_ms" in r:
            print(f"{r['name']} {r['precision']} {r['threads']} thread(s), one pass, ms: "
                  + ", ".join(f"{k} {v:,}" for k, v in r["profile_ms"].items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pipeline", action="append", default=[], help="NAME=DIR, repeatable")
    parser.add_argument("--ner-dev", type=Path, help="CoNLL-2003 dev .spacy")
    parser.add_argument("--textcat-dev", type=Path, help="SST-2 dev .spacy")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--processes", type=int, default=0,
                        help="also nlp.pipe(n_process=N), each process on one thread (the 'N x 1' rows)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--precisions", default="fp32,int8")
    parser.add_argument("--profile", action="store_true", help="also profile one pass of every run")
    parser.add_argument("--output", type=Path, help="append the rows as JSON lines here")
    parser.add_argument("--run-one", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_one:
        print(json.dumps(measure(json.loads(args.run_one))))
        return
    dev = {"ner": str(args.ner_dev) if args.ner_dev else None, "textcat": str(args.textcat_dev) if args.textcat_dev else None}
    rows = []
    for item in args.pipeline:
        name, _, path = item.partition("=")
        if not Path(path).is_dir():
            sys.exit(f"Pipeline directory not found: {path} (give --pipeline NAME=DIR)")
        for precision in args.precisions.split(","):
            setups = [(int(t), 1) for t in args.threads.split(",")] + ([(1, args.processes)] if args.processes > 1 else [])
            for threads, processes in setups:
                spec = {"name": name, "path": path, "precision": precision, "threads": threads, "processes": processes,
                        "dev": dev, "repeats": args.repeats, "profile": args.profile and processes == 1}
                row = harness.run_isolated(spec, Path(__file__).resolve(), f"{name} {precision} {threads} {processes}")
                if row:
                    rows.append(row)
                    print(json.dumps(row), flush=True)
                    if args.output:
                        harness.append_rows(args.output, [row])
    print_table(rows)


if __name__ == "__main__":
    main()
