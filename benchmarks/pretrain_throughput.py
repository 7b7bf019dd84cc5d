"""Pretraining throughput: our loop vs `transformers.Trainer`, same model, data and batch.

    python benchmarks/pretrain_throughput.py --config configs/pretrain_mlm.cfg \
        --shards corpus/shards --tokenizer corpus/tokenizer --steps 20

Our loop trains on packed windows (no padding). The Trainer runs in two recipes, both
masking 15% with `DataCollatorForLanguageModeling` and with the same number of sequences
per step: "padded", each document truncated to seq_len with [CLS]/[SEP] and padded per
batch (run_mlm.py's --line_by_line); "group_texts", run_mlm.py's default, the documents
with their [CLS]/[SEP] concatenated and cut into seq_len blocks (no padding). All count
real (non-padding) tokens per second over the steps after the first `--skip` (warm-up).
Model FLOPs per token = 6 x non-embedding parameters + attention (12 x layers x seq_len
x width) + the LM head at the masked positions; MFU is that over a matmul peak measured
here, now, at the model's width (machine load counts). Needs `accelerate` (the Trainer
requires it).

With the replaced-token detection objective (configs/pretrain_rtd.cfg) only our loop
runs (the Trainer has no ELECTRA recipe). Its FLOPs per token are approximate: the
discriminator's and the generator's bodies and attention at 6x (forward and backward),
the discriminator head at every token, the generator's MLM head at the masked ones; the
second embedding lookup and the sampling are left out.

`--no-trainer --profile [--family bert]` times our loop alone and prints where its step
goes: torch.profiler's top operators and their self time grouped (matmul, attention,
elementwise, ...), in ms per step, so two families' steps compare line by line.
"""
import argparse
import json
import os
import tempfile
import time
from collections import Counter
from itertools import islice
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from wasabi import msg  # noqa: E402

from spacy_wv.corpus.shards import ShardReader  # noqa: E402
from spacy_wv.hf_dirs import load_fast_tokenizer  # noqa: E402
from spacy_wv.pretraining.config import load_pretrain_config, resolve_settings  # noqa: E402
from spacy_wv.pretraining.loop import pretrain  # noqa: E402
from spacy_wv.pretraining.rtd import ReplacedTokenDetection  # noqa: E402

from harness import markdown_table  # noqa: E402  (benchmarks/)


def matmul_peak(width: int, rows: int, seconds: float = 3.0) -> float:
    """FLOP/s of fp32 (rows x width) @ (width x 4*width), the model's dominant shape."""
    a, b = torch.randn(rows, width), torch.randn(width, 4 * width)
    for _ in range(3):
        a @ b
    n, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        a @ b
        n += 1
    return 2 * rows * width * 4 * width * n / (time.perf_counter() - started)


def cuda_bf16_peak(size: int = 8192, repeats: int = 10) -> float:
    """FLOP/s of a bf16 size^3 matrix product on the GPU: the mean of `repeats` after 3 warm-ups."""
    a = torch.randn(size, size, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(size, size, device="cuda", dtype=torch.bfloat16)
    for _ in range(3):
        a @ b
    torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(repeats):
        a @ b
    torch.cuda.synchronize()
    return 2 * size**3 * repeats / (time.perf_counter() - started)


def flops_per_token(model, settings) -> float:
    embeddings = sum(p.numel() for n, p in model.named_parameters() if "embeddings" in n)
    body = sum(p.numel() for n, p in model.named_parameters() if not n.startswith("cls.")) - embeddings
    spec, seq_len = settings.encoder, settings.training.seq_len
    attention = 12 * spec.depth * seq_len * spec.width
    head = 6 * (spec.width * spec.width + spec.width * model.config.vocab_size) * settings.objective.mask_rate
    return 6 * body + attention + head


def rtd_flops_per_token(module, settings) -> float:
    """Approximate (see the module docstring): discriminator + generator."""
    spec, seq_len = settings.encoder, settings.training.seq_len
    generator, disc_head = module.auxiliary["generator"], module.auxiliary["discriminator_head"]
    gen = generator.encoder.config
    disc_body = sum(p.numel() for n, p in module.model.named_parameters() if "embeddings" not in n)
    # The generator's encoder includes the projection of the shared embeddings (every token).
    every_token = disc_body + sum(p.numel() for p in generator.encoder.parameters()) + sum(p.numel() for p in disc_head.parameters())
    attention = 12 * seq_len * (spec.depth * spec.width + gen.num_hidden_layers * gen.hidden_size)
    gen_head = sum(p.numel() for p in generator.head.parameters()) + spec.width * module.model.config.vocab_size
    return 6 * every_token + attention + 6 * gen_head * settings.objective.masking.mask_rate


def run_ours(settings, steps: int, skip: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        pretrain(settings, Path(tmp) / "out")
        rows = [json.loads(line) for line in (Path(tmp) / "out" / "metrics.jsonl").read_text().splitlines()]
    # log_every = skip: the first row covers the warm-up steps, the rest are timed.
    rows = [r for r in rows if "tokens_per_s" in r]
    timed = [(r["step"] - previous["step"], r["tokens_per_s"]) for r, previous in zip(rows[1:], rows)]
    tokens = sum(n for n, _ in timed) * settings.training.batch_tokens
    seconds = sum(n * settings.training.batch_tokens / speed for n, speed in timed)
    return tokens / seconds


def documents(shard_dir: Path):
    reader = ShardReader(shard_dir)
    for array in reader.arrays:
        stream = np.asarray(array)
        ends = np.flatnonzero(stream == reader.doc_sep_id)
        starts = np.concatenate([[0], ends[:-1] + 1])
        yield from (stream[s:e] for s, e in zip(starts, ends) if e > s)


def padded_examples(tokenizer, shard_dir: Path, seq_len: int, n: int):
    """run_mlm.py --line_by_line: one document a sequence, truncated; padded per batch."""
    body = seq_len - 2
    return [{"input_ids": [tokenizer.cls_token_id, *doc[:body].tolist(), tokenizer.sep_token_id]}
            for doc in islice(documents(shard_dir), n)]


def grouped_examples(tokenizer, shard_dir: Path, seq_len: int, n: int):
    """run_mlm.py's default `group_texts`: documents with their special tokens,
    concatenated and cut into seq_len blocks; the incomplete last block is dropped."""
    stream = []
    for doc in documents(shard_dir):
        stream += [tokenizer.cls_token_id, *doc.tolist(), tokenizer.sep_token_id]
        if len(stream) >= n * seq_len:
            break
    return [{"input_ids": stream[i:i + seq_len]} for i in range(0, n * seq_len, seq_len) if i + seq_len <= len(stream)]


def run_trainer(settings, tokenizer, examples, steps: int, skip: int, compile: bool = False) -> float:
    from transformers import DataCollatorForLanguageModeling, Trainer, TrainerCallback, TrainingArguments

    training = settings.training
    on_gpu = torch.cuda.is_available()  # bf16 autocast there, as our loop's precision "auto"/"bf16"
    batch_seqs = training.batch_tokens // training.seq_len
    real_tokens_per_step = batch_seqs * float(np.mean([len(e["input_ids"]) for e in examples]))

    class StepTimes(TrainerCallback):
        def __init__(self):
            self.times = []

        def on_step_end(self, args, state, control, **kwargs):
            if on_gpu:  # the step's kernels may still be queued
                torch.cuda.synchronize()
            self.times.append(time.perf_counter())

    torch.manual_seed(training.seed)
    model = settings.objective.build_model(settings.encoder.hf_config(tokenizer))
    opt = settings.optimizer
    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(
            output_dir=tmp, max_steps=steps, per_device_train_batch_size=batch_seqs, learning_rate=opt.lr,
            adam_beta1=opt.betas[0], adam_beta2=opt.betas[1], adam_epsilon=opt.eps, weight_decay=opt.weight_decay,
            max_grad_norm=opt.grad_clip, warmup_steps=min(settings.schedule.warmup_steps, steps), lr_scheduler_type="cosine",
            save_strategy="no", logging_strategy="no", report_to=[], use_cpu=not on_gpu, bf16=on_gpu,
            torch_compile=compile, dataloader_num_workers=0, seed=training.seed, disable_tqdm=True,
        )
        collator = DataCollatorForLanguageModeling(tokenizer, mlm=True, mlm_probability=settings.objective.mask_rate)
        step_times = StepTimes()
        Trainer(model=model, args=args, train_dataset=examples, data_collator=collator, callbacks=[step_times]).train()
    times = step_times.times
    return real_tokens_per_step * (len(times) - skip) / (times[-1] - times[skip - 1])


def profile_ours(settings, steps: int = 3) -> None:
    """Where our step's time goes: the top operators by CPU time."""
    from torch.profiler import ProfilerActivity, profile

    from spacy_wv.pretraining.batching import PackedCorpus, WindowSampler

    tokenizer = load_fast_tokenizer(settings.tokenizer_path)
    reader = ShardReader(settings.train_path)
    objective = settings.objective
    objective.bind(tokenizer, reader.doc_sep_id)
    corpus = PackedCorpus(reader, settings.training.seq_len, objective.prefix_id(tokenizer), 0)
    sampler = WindowSampler(corpus, settings.training.batch_tokens // settings.training.seq_len, 0)
    module = objective.wrap(objective.build_model(settings.encoder.hf_config(tokenizer)), settings.encoder)
    optimizer = settings.optimizer.build(module)
    generator = torch.Generator().manual_seed(0)

    def step():
        loss, _, n = module(*objective.make_batch(sampler.next_batch(), generator))
        (loss / n).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    events = prof.key_averages()
    print(events.table(sort_by="self_cpu_time_total", row_limit=15))
    # Self time, so nested operators (linear -> addmm) are counted once.
    buckets: Counter = Counter()
    for event in events:
        buckets[operator_bucket(event.key)] += event.self_cpu_time_total / 1000 / steps
    total = sum(buckets.values())
    rows = [(name, f"{ms:,.0f}", f"{100 * ms / total:.0f}%") for name, ms in buckets.most_common()]
    print(markdown_table(("operators (self time)", "ms/step", "share"), rows, "lrr"))


OPERATOR_BUCKETS = (  # first match wins: the order settles overlapping names
    ("loss", ("cross_entropy", "nll_loss", "log_softmax", "binary_cross_entropy")),
    ("optimizer", ("adam", "_foreach", "optimizer", "clip_grad", "vector_norm")),
    ("attention", ("attention", "softmax")),
    ("matmul", ("addmm", "aten::mm", "bmm", "matmul", "linear")),
    ("norm", ("layer_norm", "rms_norm")),
    ("activation (GELU/GLU)", ("gelu", "silu", "glu")),
    ("embedding", ("embedding",)),
    ("elementwise", ("add", "mul", "sub", "div", "neg", "cat", "sin", "cos", "where")),
    ("copies and indexing", ("copy", "index", "gather", "scatter", "clone", "contiguous", "masked", "nonzero", "aten::to")),
)


def operator_bucket(name: str) -> str:
    lowered = name.lower()
    for bucket, needles in OPERATOR_BUCKETS:
        if any(needle in lowered for needle in needles):
            return bucket
    return "other"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", type=Path, default=Path("configs/pretrain_mlm.cfg"))
    parser.add_argument("--shards", type=Path, required=True)
    parser.add_argument("--tokenizer", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--skip", type=int, default=4, help="warm-up steps left out of the timing")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default); 1 is steadier on a shared machine")
    parser.add_argument("--profile", action="store_true", help="also print a torch.profiler table of our step")
    parser.add_argument("--family", default=None, help="override [encoder] family (bert, roberta, modernbert)")
    parser.add_argument("--no-trainer", action="store_true", help="time only our loop (with --profile: where its step goes)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    overrides = {
        "paths.train": str(args.shards), "paths.tokenizer": str(args.tokenizer), "training.max_steps": args.steps,
        "training.max_minutes": None, "training.log_every": args.skip, "training.eval_tokens": 0,
        "training.checkpoint_every": 10 * args.steps,
        # Step throughput only: the warm start happens once, before step 1, and is timed apart.
        "warm_start.method": "none",
    }
    if args.family:
        overrides["encoder.family"] = args.family
    settings = resolve_settings(load_pretrain_config(args.config, overrides))
    tokenizer = load_fast_tokenizer(settings.tokenizer_path)
    objective, training = settings.objective, settings.training
    rtd = isinstance(objective, ReplacedTokenDetection)
    model = objective.build_model(settings.encoder.hf_config(tokenizer))
    per_token = rtd_flops_per_token(objective.wrap(model, settings.encoder), settings) if rtd else flops_per_token(model, settings)
    del model

    msg.info(f"{torch.get_num_threads()} threads; {args.steps} steps of {training.batch_tokens} tokens; timing after {args.skip}")
    ours = run_ours(settings, args.steps, args.skip)
    timings = [(f"spacy_wv loop ({objective.name})", ours)]
    if not (rtd or args.no_trainer):
        n_seqs = training.batch_tokens // training.seq_len * args.steps
        for recipe, examples in (("padded", padded_examples), ("group_texts", grouped_examples)):
            speed = run_trainer(settings, tokenizer, examples(tokenizer, args.shards, training.seq_len, n_seqs), args.steps, args.skip)
            timings.append((f"HF Trainer ({recipe})", speed))
    peak = matmul_peak(settings.encoder.width, training.batch_tokens)
    padded = timings[1][1] if len(timings) > 1 else None
    rows = [(name, f"{speed:,.0f}", f"{speed / padded:.2f}x" if padded else "-", f"{100 * speed * per_token / peak:.0f}%")
            for name, speed in timings]
    print(markdown_table(("", "tokens/s", "vs padded Trainer", "MFU"), rows, "lrrr"))
    print(f"model FLOPs/token {per_token / 1e6:.1f} M{' (approximate: discriminator + generator)' if rtd else ''}; matmul peak {peak / 1e9:.1f} GFLOP/s (fp32, width {settings.encoder.width})")
    if args.profile:
        profile_ours(settings)


if __name__ == "__main__":
    main()
