"""The GPU kit's one command: pretrain, fine-tune and measure on one GPU, rows and logs to --out.

On the lent H200 machine (the kit from prepare.py carried beside the repository):

    python3 benchmarks/gpu/run.py --kit .gpu_kit --out $OUT

Here, on CPU, the same steps at toy size (what the test suite runs, so the kit cannot rot):

    python benchmarks/gpu/prepare.py --tiny --kit /tmp/kit
    python benchmarks/gpu/run.py --tiny --kit /tmp/kit --out /tmp/kit_out

Steps, each in a process of its own with its own time limit, so that one that fails or
hangs costs only its own rows: `env` (versions, nvidia-smi), `peak` (a bf16 matrix
product's FLOP/s, measured now), `encode` (the kit's text to token shards, one worker a
core), `throughput` (our loop against `transformers.Trainer` on `group_texts` batches,
same model, data and batch, eager and compiled: tokens/s, MFU against `peak`, peak GPU
memory), `pretrain` (a time-boxed run of configs/pretrain_mlm_gpu.cfg on all the text),
`ner` and `textcat` (the whole encoder fine-tuned in spaCy, configs/ner.cfg and
textcat.cfg, time-boxed, dev scores), `stacked` (configs/ner_stacked.cfg on the same
encoder, for comparison) and `env_after` (nvidia-smi again). A step that would not end
before `--deadline-minutes` is skipped and says so.

All steps take about ten minutes, more than one call may run (nine): on a lease, run
`--smoke` first (two minutes), then the steps in two calls, e.g. `--steps
env,peak,encode,throughput` and `--steps encode,pretrain,ner,textcat,stacked,env_after`
(a fresh machine keeps nothing, so the second encodes again: 10 s). `--short` fits the
last five minutes of a lease. Measured on 2026-12-04: a fresh machine took about 30 s to
start; one call was taken back for other work after 4 minutes, and its output was lost.

Out: `rows.jsonl` (one JSON row per measurement, `{"step": ..., "error": ...}` for a
step that failed), `log.txt` (every step's output) and `table.md` (what is printed at
the end).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Dict, List

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
# Not on the GPU machine, and imported only by paths the kit does not run: blocking them
# here too keeps the kit honest on CPU.
BLOCKED_IMPORTS = ("gensim", "jieba", "matplotlib")
SMALL_ENCODER = {"encoder.family": "modernbert", "encoder.width": 256, "encoder.depth": 4, "encoder.heads": 4,
                 "encoder.ffn_size": 1024}

FULL = {
    "device": "cuda",
    "deadline_minutes": 8.2,
    "peak_size": 8192,
    "throughput": [
        # pretrain_mlm.cfg's 4x256 ModernBERT, with a batch that fills a GPU (2,048 windows of 128).
        {"name": "4x256 modernbert (pretrain_mlm.cfg)", "config": "pretrain_mlm.cfg",
         "overrides": {"training.batch_tokens": 262144, "training.precision": "bf16"},
         "steps": 20, "skip": 8, "systems": ["ours", "ours+compile", "trainer"]},
        # pretrain_mlm_gpu.cfg as shipped: BERT-base 12x768, 256 windows of 512.
        {"name": "12x768 bert (pretrain_mlm_gpu.cfg)", "config": "pretrain_mlm_gpu.cfg", "overrides": {},
         "steps": 16, "skip": 6, "systems": ["ours", "ours+compile", "trainer"]},
    ],
    "pretrain": {"config": "pretrain_mlm_gpu.cfg", "minutes": 1.5,
                 # A short budget: warm up over 100 steps, no dropout (as the CPU sweep found).
                 "overrides": {"schedule.warmup_steps": 100, "encoder.dropout": 0.0, "training.max_steps": None,
                               "training.eval_every": 200, "training.eval_tokens": 262144,
                               "training.checkpoint_every": 100000, "training.log_every": 20}},
    "finetune_seconds": {"ner": 40, "textcat": 25, "stacked": 25},
    # The configs' 3e-4 suits the 4x256 CPU encoder; a 12x768 one is fine-tuned gentler.
    "finetune_overrides": {"training.optimizer.learn_rate.initial_rate": 1e-4},
    # On the H200 (2026-12-04) the ner step had not finished after 59 and 67 s with 8 and 20 s
    # of training; stacked_budget.run_one now logs where its time goes.
    "timeouts": {"env": 60, "peak": 60, "encode": 180, "throughput": 300, "pretrain": 240,
                 "ner": 240, "textcat": 180, "stacked": 180, "env_after": 30},
}
TINY = {
    "device": "cpu",
    "deadline_minutes": 10.0,
    "peak_size": 512,
    "throughput": [
        {"name": "tiny 2x32 bert", "config": "pretrain_mlm.cfg",
         "overrides": {"encoder.family": "bert", "encoder.width": 32, "encoder.depth": 2, "encoder.heads": 2,
                       "encoder.ffn_size": 64, "training.batch_tokens": 1024, "training.seq_len": 64},
         "steps": 4, "skip": 2, "systems": ["ours", "trainer"]},
    ],
    # max_steps ends the run; the minutes only cap it, generous so that a loaded CI machine
    # still gets all 6 steps.
    "pretrain": {"config": "pretrain_mlm.cfg", "minutes": 1.0,
                 # Two layers: the fine-tuning configs' wv_vectors reads layers 0..2.
                 "overrides": {"encoder.family": "bert", "encoder.width": 32, "encoder.depth": 2, "encoder.heads": 2,
                               "encoder.ffn_size": 64, "training.batch_tokens": 1024, "training.seq_len": 64,
                               "training.max_steps": 6, "warm_start.method": "none", "training.eval_every": 3,
                               "training.eval_tokens": 2048, "training.log_every": 3, "training.checkpoint_every": 100}},
    "finetune_seconds": {"ner": 2, "textcat": 2, "stacked": 2},
    "finetune_overrides": {},
    "timeouts": {"env": 60, "peak": 60, "encode": 120, "throughput": 180, "pretrain": 120,
                 "ner": 120, "textcat": 120, "stacked": 120, "env_after": 30},
}
# FULL's code paths on the GPU in about two minutes: what to run first on a fresh lease,
# so that a package or device problem costs two minutes instead of nine.
SMOKE = {
    **FULL,
    "deadline_minutes": 4.0,
    "throughput": [{**FULL["throughput"][0], "steps": 6, "skip": 3}],
    "pretrain": {**FULL["pretrain"], "minutes": 0.4},
    "finetune_seconds": {"ner": 8, "textcat": 8, "stacked": 8},
}
# What fits in the last five minutes of a lease: the base model's compiled throughput
# against the Trainer, and a shorter pretrain and fine-tuning.
SHORT = {
    **FULL,
    "deadline_minutes": 4.6,
    "throughput": [{**FULL["throughput"][1], "steps": 12, "skip": 5, "systems": ["ours+compile", "trainer"]}],
    "pretrain": {**FULL["pretrain"], "minutes": 0.75},
    "finetune_seconds": {"ner": 20, "textcat": 12, "stacked": 12},
}
FULL["name"], SMOKE["name"], SHORT["name"], TINY["name"] = "full", "smoke", "short", "tiny"
PLANS = {plan["name"]: plan for plan in (FULL, SMOKE, SHORT, TINY)}
STEPS = ["env", "peak", "encode", "throughput", "pretrain", "ner", "textcat", "stacked", "env_after"]


# ---- steps (each runs in its own process: `run.py --step NAME`) ----

def step_env(ctx) -> List[dict]:
    import importlib.metadata as metadata

    import torch

    versions = {}
    for name in ("torch", "transformers", "tokenizers", "spacy", "thinc", "spacy-transformers", "cupy-cuda13x",
                 "cupy-cuda12x", "numpy", "accelerate"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    row = {"python": sys.version.split()[0], "cpus": os.cpu_count(), **versions,
           "cuda": torch.version.cuda, "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
    nvidia_smi(ctx)
    return [row]


def step_env_after(ctx) -> List[dict]:
    return [{"nvidia_smi": nvidia_smi(ctx)}]


def nvidia_smi(ctx) -> bool:
    if not shutil.which("nvidia-smi"):
        return False
    print(subprocess.run(["nvidia-smi"], capture_output=True, text=True).stdout, flush=True)
    return True


def step_peak(ctx) -> List[dict]:
    import torch

    sys.path.insert(0, str(REPO / "benchmarks"))
    import pretrain_throughput

    size = ctx["plan"]["peak_size"]
    if ctx["plan"]["device"] == "cuda":
        return [{"dtype": "bf16", "size": size, "tflops": pretrain_throughput.cuda_bf16_peak(size) / 1e12,
                 "device": torch.cuda.get_device_name(0)}]
    return [{"dtype": "fp32", "size": size, "tflops": pretrain_throughput.matmul_peak(size, size, seconds=1.0) / 1e12,
             "device": "cpu"}]


def step_encode(ctx) -> List[dict]:
    from spacy_wv.corpus.encode import encode_corpus
    from spacy_wv.corpus.shards import ShardReader

    kit, work = ctx["kit"], ctx["work"]
    started = time.perf_counter()
    with tarfile.open(kit / "text.tar.xz") as archive:
        archive.extractall(work, filter="data")
    unpacked = time.perf_counter()
    encode_corpus(kit / "tokenizer", [work / "text"], work / "shards", overwrite=True, workers=os.cpu_count())
    reader = ShardReader(work / "shards")
    text_mb = sum(p.stat().st_size for p in (work / "text").rglob("*") if p.is_file()) / 2**20
    return [{"text_mb": round(text_mb, 1), "tokens": reader.n_tokens, "unpack_s": round(unpacked - started, 1),
             "encode_s": round(time.perf_counter() - unpacked, 1), "workers": os.cpu_count()}]


def step_throughput(ctx) -> List[dict]:
    import torch

    sys.path.insert(0, str(REPO / "benchmarks"))
    import pretrain_throughput as bench
    from spacy_wv.pretraining.config import load_pretrain_config, resolve_settings
    from spacy_wv.hf_dirs import load_fast_tokenizer

    plan, work = ctx["plan"], ctx["work"]
    peak_flops = measured_peak(ctx)
    on_gpu = plan["device"] == "cuda"
    tokenizer = load_fast_tokenizer(ctx["kit"] / "tokenizer")
    rows = []
    for model in [m for m in plan["throughput"] if any(key in m["name"] for key in ctx["models"])]:
        steps, skip = model["steps"], model["skip"]
        base = {"paths.train": str(work / "shards"), "paths.tokenizer": str(ctx["kit"] / "tokenizer"),
                "training.max_steps": steps, "training.max_minutes": None, "training.log_every": skip,
                "training.eval_tokens": 0, "training.checkpoint_every": 10 * steps, "warm_start.method": "none",
                **model["overrides"]}
        for system in model["systems"]:
            compiled = system.endswith("+compile")
            settings = resolve_settings(load_pretrain_config(REPO / "configs" / model["config"],
                                                             {**base, "training.compile": compiled}))
            per_token = bench.flops_per_token(settings.objective.build_model(settings.encoder.hf_config(tokenizer)), settings)
            if on_gpu:
                torch.cuda.empty_cache()
                torch.cuda.reset_peak_memory_stats()
            torch._dynamo.reset()
            started = time.perf_counter()
            try:
                if system.startswith("ours"):
                    speed = bench.run_ours(settings, steps, skip)
                else:
                    n_seqs = settings.training.batch_tokens // settings.training.seq_len * steps
                    examples = bench.grouped_examples(tokenizer, work / "shards", settings.training.seq_len, n_seqs)
                    speed = bench.run_trainer(settings, tokenizer, examples, steps, skip, compile=compiled)
            except Exception as err:  # one system failing must not lose the others' rows
                rows.append({"model": model["name"], "system": system, "error": f"{type(err).__name__}: {err}"[:500]})
                continue
            rows.append({
                "model": model["name"], "system": system, "tokens_per_s": round(speed),
                "mfu": round(speed * per_token / peak_flops, 4) if peak_flops else None,
                "flops_per_token_m": round(per_token / 1e6, 1), "batch_tokens": settings.training.batch_tokens,
                "seq_len": settings.training.seq_len, "steps": steps, "timed_after": skip,
                "peak_mem_gb": round(torch.cuda.max_memory_allocated() / 2**30, 2) if on_gpu else None,
                "wall_s": round(time.perf_counter() - started, 1),
            })
            print(json.dumps(rows[-1]), flush=True)
    return rows


def measured_peak(ctx) -> float:
    for row in read_rows(ctx["out"] / "rows.jsonl"):
        if row.get("step") == "peak" and "tflops" in row:
            return row["tflops"] * 1e12
    return 0.0


def step_pretrain(ctx) -> List[dict]:
    from spacy_wv.pretraining.config import load_pretrain_config, resolve_settings
    from spacy_wv.pretraining.loop import METRICS_FILE, pretrain

    plan, work = ctx["plan"]["pretrain"], ctx["work"]
    overrides = {"paths.train": str(work / "shards"), "paths.tokenizer": str(ctx["kit"] / "tokenizer"),
                 "training.max_minutes": plan["minutes"], **plan["overrides"]}
    settings = resolve_settings(load_pretrain_config(REPO / "configs" / plan["config"], overrides))
    out = work / "encoder"
    if out.exists():
        shutil.rmtree(out)
    started = time.perf_counter()
    last = pretrain(settings, out)
    metrics = [json.loads(line) for line in (out / METRICS_FILE).read_text().splitlines()]
    speeds = [m["tokens_per_s"] for m in metrics if "tokens_per_s" in m][1:]  # the first window compiles
    evals = [m for m in metrics if "eval_loss" in m]
    return [{"config": plan["config"], "budget_minutes": plan["minutes"], "steps": last.get("step"),
             "tokens": last.get("tokens"), "median_tokens_per_s": round(statistics.median(speeds)) if speeds else None,
             "eval_loss": evals[-1]["eval_loss"] if evals else None,
             "eval_accuracy": evals[-1]["eval_accuracy"] if evals else None,
             "first_eval_accuracy": evals[0]["eval_accuracy"] if evals else None,
             "wall_s": round(time.perf_counter() - started, 1)}]


def finetune(ctx, task: str, system: str, data: str) -> List[dict]:
    sys.path.insert(0, str(REPO / "benchmarks"))
    import stacked_budget

    encoder = ctx["work"] / "encoder"
    if not (encoder / "config.json").is_file():
        raise RuntimeError(f"no pretrained encoder at {encoder} (the pretrain step did not finish)")
    seconds = ctx["plan"]["finetune_seconds"][ctx["step"]]
    spec = {"task": task, "system": system, "seed": 0, "train": str(ctx["kit"] / "data" / f"{data}_train.spacy"),
            "dev": str(ctx["kit"] / "data" / f"{data}_dev.spacy"), "encoder": str(encoder), "vectors": None,
            "seconds": seconds, "steps": 0, "gpu_id": 0 if ctx["plan"]["device"] == "cuda" else None,
            "overrides": ctx["plan"]["finetune_overrides"] if system == "finetuned" else {}}
    started = time.perf_counter()
    row = stacked_budget.run_one(spec)
    return [{**row, "budget_s": seconds, "wall_s": round(time.perf_counter() - started, 1)}]


def step_ner(ctx) -> List[dict]:
    return finetune(ctx, "conll", "finetuned", "conll")


def step_textcat(ctx) -> List[dict]:
    return finetune(ctx, "sst2", "finetuned", "sst2")


def step_stacked(ctx) -> List[dict]:
    return finetune(ctx, "conll", "stacked", "conll")


# ---- the orchestrator ----

def read_rows(path: Path) -> List[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf8").splitlines() if line.strip()]


def site_env(kit: Path, work: Path) -> Dict[str, str]:
    """PYTHONPATH for the steps: the repository first (our code), then the kit's packages
    unpacked once (where they are not importable already, as here on CPU)."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               SPACY_WV_KIT_BLOCK=",".join(BLOCKED_IMPORTS))
    paths = [str(REPO)]
    archive = kit / "site.tar.xz"
    if archive.is_file():
        site = work / "site"
        if not site.is_dir():
            with tarfile.open(archive) as tar:
                tar.extractall(site, filter="data")
        paths.append(str(site))
    env["PYTHONPATH"] = os.pathsep.join(paths + [p for p in [os.environ.get("PYTHONPATH")] if p])
    return env


def run_steps(plan: dict, kit: Path, out: Path, work: Path, steps: List[str], models: str) -> List[dict]:
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    deadline = started + plan["deadline_minutes"] * 60
    env = site_env(kit, work)
    rows_path = out / "rows.jsonl"
    with (out / "log.txt").open("a", encoding="utf8") as log:
        log.write(f"== setup: packages ready in {time.perf_counter() - started:.1f} s\n")
        for name in steps:
            limit = min(plan["timeouts"][name], deadline - time.perf_counter())
            if limit < 30 and limit < plan["timeouts"][name]:
                append_row(rows_path, {"step": name, "error": f"skipped: {limit:.0f} s left before the deadline"})
                continue
            log.write(f"\n== {name} (limit {limit:.0f} s)\n")
            log.flush()
            step_started = time.perf_counter()
            command = [sys.executable, str(Path(__file__).resolve()), "--step", name, "--kit", str(kit), "--out", str(out),
                       "--work", str(work), "--plan", plan["name"], "--models", models]
            try:
                result = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, env=env, timeout=limit, cwd=REPO)
                failed = f"exit code {result.returncode}" if result.returncode else None
            except subprocess.TimeoutExpired:
                failed = f"timed out after {limit:.0f} s"
            seconds = time.perf_counter() - step_started
            if failed:  # a crash or a timeout; errors the step caught are in its own rows
                append_row(rows_path, {"step": name, "error": failed, "seconds": round(seconds, 1)})
            errors = sum("error" in row for row in read_rows(rows_path) if row["step"] == name)
            status = f"{errors} error row(s)" if errors else "ok"
            log.write(f"== {name}: {status} in {seconds:.1f} s\n")
            log.flush()
            print(f"{name}: {status} ({seconds:.0f} s)", flush=True)
    rows = read_rows(rows_path)
    table = format_table(rows, time.perf_counter() - started)
    (out / "table.md").write_text(table, encoding="utf8")
    print(table)
    return rows


def append_row(path: Path, row: dict) -> None:
    with path.open("a", encoding="utf8") as f:
        f.write(json.dumps(row) + "\n")


def block_imports(modules: str) -> None:
    """Importing any of these (comma-separated) fails from now on (ModuleNotFoundError)."""
    for module in filter(None, modules.split(",")):
        sys.modules[module] = None


def run_one_step(name: str, plan: dict, kit: Path, out: Path, work: Path, models: List[str]) -> None:
    block_imports(os.environ.get("SPACY_WV_KIT_BLOCK", ""))
    ctx = {"plan": plan, "kit": kit, "out": out, "work": work, "step": name, "models": models}
    try:
        rows = globals()[f"step_{name}"](ctx)
    except Exception as err:
        import traceback

        traceback.print_exc()
        rows = [{"error": f"{type(err).__name__}: {err}"[:500]}]
    for row in rows:
        append_row(out / "rows.jsonl", {"step": name, **row})


def format_table(rows: List[dict], total_s: float) -> str:
    def fmt(value, spec=""):
        return "-" if value is None else format(value, spec)

    lines = [f"GPU kit: {total_s / 60:.1f} minutes in all", ""]
    for row in rows:
        if "error" in row:
            lines.append(f"- {row['step']}{' ' + row['model'] + ' ' + row['system'] if 'system' in row else ''}: FAILED ({row['error']})")
    env = next((r for r in rows if r["step"] == "env" and "error" not in r), None)
    if env:
        lines.append(f"- machine: {env.get('gpu') or 'cpu'}, {env['cpus']} cores; python {env['python']}, torch {env.get('torch')} "
                     f"(CUDA {env.get('cuda')}), transformers {env.get('transformers')}, spaCy {env.get('spacy')}, thinc {env.get('thinc')}")
    peak = next((r for r in rows if r["step"] == "peak" and "error" not in r), None)
    if peak:
        lines.append(f"- matrix-product peak: {peak['tflops']:.3g} TFLOP/s ({peak['dtype']}, {peak['size']}^3)")
    encode = next((r for r in rows if r["step"] == "encode" and "error" not in r), None)
    if encode:
        lines.append(f"- encode: {encode['text_mb']} MB of text to {encode['tokens']:,} tokens in {encode['encode_s']} s "
                     f"({encode['workers']} workers; unpacking {encode['unpack_s']} s)")
    throughput = [r for r in rows if r["step"] == "throughput" and "error" not in r]
    if throughput:
        lines += ["", "| model | system | tokens/s | MFU | peak GPU memory (GB) | batch tokens x seq |",
                  "|---|---|---:|---:|---:|---|"]
        lines += [f"| {r['model']} | {r['system']} | {r['tokens_per_s']:,} | {fmt(r['mfu'], '.1%')} | {fmt(r['peak_mem_gb'])} | "
                  f"{r['batch_tokens']:,} x {r['seq_len']} |" for r in throughput]
    pretrain = next((r for r in rows if r["step"] == "pretrain" and "error" not in r), None)
    if pretrain:
        lines += ["", f"- pretrain ({pretrain['config']}, {pretrain['budget_minutes']} min): {pretrain['steps']} steps, "
                  f"{fmt(pretrain['tokens'], ',')} tokens, median {fmt(pretrain['median_tokens_per_s'], ',')} tokens/s, "
                  f"eval loss {fmt(pretrain['eval_loss'], '.3f')}, masked-token accuracy {fmt(pretrain['eval_accuracy'], '.3f')} "
                  f"(first eval {fmt(pretrain['first_eval_accuracy'], '.3f')})"]
    tasks = [r for r in rows if r["step"] in ("ner", "textcat", "stacked") and "error" not in r]
    if tasks:
        lines += ["", "| task | system | dev score | budget s | steps | epochs | train words/s | inference words/s |",
                  "|---|---|---:|---:|---:|---:|---:|---:|"]
        lines += [f"| {r['task']} | {r['system']} | {100 * r['score']:.2f} | {r['budget_s']} | {r['steps']} | {r['epochs']} | "
                  f"{r['train_words_s']:,} | {r['infer_words_s']:,} |" for r in tasks]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kit", type=Path, default=REPO / ".gpu_kit")
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT") or "gpu_kit_out"))
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: /tmp/spacy_wv_gpu_kit)")
    parser.add_argument("--tiny", action="store_true", help="the same steps at toy size, on CPU")
    parser.add_argument("--smoke", action="store_true", help="the GPU steps at small size, about two minutes")
    parser.add_argument("--short", action="store_true", help="the GPU steps in under five minutes")
    parser.add_argument("--plan", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--steps", default=",".join(STEPS), help="comma-separated subset of the steps, in order")
    parser.add_argument("--models", default="", help="throughput: only the models whose names contain one of these (comma-separated)")
    parser.add_argument("--step", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    plan = PLANS[args.plan or ("tiny" if args.tiny else "smoke" if args.smoke else "short" if args.short else "full")]
    work = args.work or Path("/tmp/spacy_wv_gpu_kit")
    if args.step:
        run_one_step(args.step, plan, args.kit.resolve(), args.out.resolve(), work.resolve(), args.models.split(","))
        return
    if not (args.kit / "kit.json").is_file():
        sys.exit(f"No GPU kit at {args.kit}: run `python benchmarks/gpu/prepare.py{' --tiny' if args.tiny else ''}` first.")
    unknown = [s for s in args.steps.split(",") if s not in STEPS]
    if unknown:
        sys.exit(f"Unknown step(s) {', '.join(unknown)}; the steps are {', '.join(STEPS)}.")
    rows = run_steps(plan, args.kit.resolve(), args.out.resolve(), work.resolve(), args.steps.split(","), args.models)
    sys.exit(1 if any("error" in row for row in rows) else 0)


if __name__ == "__main__":
    main()
