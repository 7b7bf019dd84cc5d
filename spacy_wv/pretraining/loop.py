"""The pretraining loop: one plain function, nanoGPT-like.

Setup (validation first, then files) lives in `prepare_run`; `train` is the loop:
grad accumulation, LR schedule, autocast, optional torch.compile, DDP, periodic eval on
held-back tokens, metrics.jsonl, atomic checkpoints and exact resume.
"""
import dataclasses
import hashlib
import json
import math
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional

import torch
from tqdm import tqdm
from wasabi import msg, row

from ..corpus.shards import ShardReader
from ..errors import UserError
from ..hf_dirs import TOKENIZER_FILE, load_fast_tokenizer, tokenizer_fingerprint
from ..memory import TRIM_EVERY, release_free_memory
from ..outputs import LegacyFiles, StopSignalHandler, check_output_dir, output_lock, write_marker
from .batching import PackedCorpus, WindowSampler
from .checkpoint import latest_checkpoint, load_checkpoint, read_state, rng_state, save_checkpoint, set_rng_state
from .config import PretrainSettings, micro_batch_seqs
from .distributed import DistEnv, all_reduce_sum, barrier, from_main, gather_objects, init_distributed, shutdown
from .init_from import build_or_load_model, check_embeddings_fit, settings_for_checkpoint

METRICS_FILE = "metrics.jsonl"
CONFIG_FILE = "pretrain.cfg"
# A run written before output markers: its config and tokenizer, and what its checkpoints add.
LEGACY_RUN_FILES = LegacyFiles({CONFIG_FILE, TOKENIZER_FILE, "tokenizer_config.json", "special_tokens_map.json"},
                               {"trainer_state", METRICS_FILE, "config.json", "model.safetensors", "generation_config.json"})
TOKENIZER_HINT = "[paths] tokenizer: run `python -m spacy_wv tokenizer` first"
TABLE_HEADER = ["step", "tokens", "loss", "lr", "eval loss", "eval acc", "eval ppl", "tok/s", "min"]
TABLE_WIDTHS = [8, 11, 7, 9, 9, 8, 9, 8, 6]


@dataclass
class Run:
    settings: PretrainSettings
    output_dir: Path
    tokenizer: object
    corpus: PackedCorpus
    batch_seqs: int
    resume_from: Optional[Path]
    data_fingerprint: str = ""
    doc_sep_id: int = -1
    # The step limit that [training] max_epochs came to (None without max_epochs).
    epoch_steps: Optional[int] = None
    # sha256 of the init_from checkpoint's weights ("" without init_from).
    init_fingerprint: str = ""


def prepare_run(settings: PretrainSettings, output_dir: Path, world_size: int, allow_config_change: bool = False) -> Run:
    """Every check that can fail on user input, before anything is written."""
    output_dir = Path(output_dir)
    resuming = check_output_dir(output_dir, "pretrain", LEGACY_RUN_FILES,
                                [settings.train_path, settings.tokenizer_path, settings.init_from])
    if settings.init_from is not None:  # the checkpoint's architecture and tokenizer replace the configured ones
        settings = settings_for_checkpoint(settings)
    tokenizer = load_fast_tokenizer(settings.tokenizer_path, TOKENIZER_HINT)
    if settings.init_from is not None:
        check_embeddings_fit(settings.init_from, tokenizer)
    reader = ShardReader(settings.train_path)
    check_shards_match_tokenizer(reader, settings.train_path, settings.tokenizer_path, len(tokenizer))
    objective = settings.objective
    objective.bind(tokenizer, reader.doc_sep_id)
    training = settings.training
    corpus = PackedCorpus(reader, training.seq_len, objective.prefix_id(tokenizer), training.eval_tokens)
    batch_seqs = micro_batch_seqs(training, world_size)
    sampler = WindowSampler(corpus, batch_seqs, training.seed, 0, world_size)  # raises if the corpus is too small
    epoch_steps = None
    if training.max_epochs is not None:
        epoch_steps = steps_for_epochs(training.max_epochs, sampler.batches_per_epoch, training.grad_accum)
        # The earlier limit ends the run; max_steps is what the loop and the LR schedule read.
        limit = epoch_steps if training.max_steps is None else min(epoch_steps, training.max_steps)
        settings = dataclasses.replace(settings, training=dataclasses.replace(training, max_steps=limit))
    init_fingerprint = weights_fingerprint(settings.init_from) if settings.init_from is not None else ""
    resume_from = latest_checkpoint(output_dir) if resuming else None
    if resume_from is not None:
        state = read_state(resume_from)
        saved_hash = state["config_hash"]
        if saved_hash != settings.config_hash and not allow_config_change:
            raise UserError(
                f"{resume_from} was made with a different config (hash {saved_hash}, now {settings.config_hash}); "
                "use a new output directory, or pass --allow-config-change to resume anyway."
            )
        saved_data = state.get("data_fingerprint")
        if saved_data is not None and saved_data != reader.data_fingerprint:
            raise UserError(
                f"The token shards at {settings.train_path} changed since {resume_from} was saved "
                f"(data {saved_data}, now {reader.data_fingerprint}): resuming would train on other data; "
                "use a new output directory, or restore the shards it was trained on."
            )
        saved_init = state.get("init_from_fingerprint")
        if saved_init is not None and saved_init != init_fingerprint and not allow_config_change:
            # A workflow reruns its step when init_from changed: a finished run resumed here
            # would leave the old result in place as if it came from the new checkpoint.
            raise UserError(
                f"The checkpoint at {settings.init_from} ([paths] init_from) changed since {resume_from} was saved: "
                f"resuming would continue a run that started from other weights; remove {output_dir} to start again "
                "from the new checkpoint, use a new output directory, or pass --allow-config-change to resume anyway."
            )
    return Run(settings, output_dir, tokenizer, corpus, batch_seqs, resume_from, reader.data_fingerprint, reader.doc_sep_id,
               epoch_steps, init_fingerprint)


def steps_for_epochs(epochs: float, batches_per_epoch: int, grad_accum: int) -> int:
    """Optimizer steps in `epochs` passes over the training windows (at least one)."""
    return max(1, math.ceil(epochs * batches_per_epoch / grad_accum - 1e-9))


def weights_fingerprint(model_dir: Path) -> str:
    """sha256 of a model dir's model.safetensors (the only weights init_from reads)."""
    digest = hashlib.sha256()
    with (Path(model_dir) / "model.safetensors").open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_shards_match_tokenizer(reader: ShardReader, shard_dir: Path, tokenizer_dir: Path, vocab_size: int) -> None:
    """The shards were encoded with this very tokenizer: same fingerprint (vocabulary,
    normalizer, pre-tokenizer), not only the same vocabulary size."""
    encode_again = f"encode the corpus with this tokenizer (`python -m spacy_wv encode {tokenizer_dir} ...`)"
    if reader.vocab_size != vocab_size:
        raise UserError(
            f"The token shards at {shard_dir} were encoded with a vocabulary of {reader.vocab_size}, "
            f"but the tokenizer at {tokenizer_dir} has {vocab_size}: {encode_again}."
        )
    tokenizer_file = tokenizer_dir / TOKENIZER_FILE
    fingerprint = tokenizer_fingerprint(tokenizer_file)
    recorded = reader.meta.get("tokenizer_fingerprint")
    if recorded is None:
        # Shards of earlier versions record the hash of the tokenizer file's bytes.
        if reader.meta.get("tokenizer_sha256") == hashlib.sha256(tokenizer_file.read_bytes()).hexdigest():
            return
        raise UserError(f"The token shards at {shard_dir} do not record that the tokenizer at {tokenizer_dir} "
                        f"made them (made by an older version, or with another tokenizer): {encode_again}.")
    if recorded != fingerprint:
        raise UserError(
            f"The token shards at {shard_dir} were encoded with another tokenizer "
            f"({reader.meta.get('tokenizer_dir', 'unknown')}) than {tokenizer_dir}, of the same size but other ids: {encode_again}."
        )


def autocast_dtype(precision: str, device: torch.device) -> Optional[torch.dtype]:
    """bf16 autocast where the hardware runs it fast (CUDA with bf16); `bf16` forces it."""
    if precision == "fp32":
        return None
    if precision == "bf16":
        return torch.bfloat16
    fast_bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
    return torch.bfloat16 if fast_bf16 else None


def pretrain(settings: PretrainSettings, output_dir: Path, allow_config_change: bool = False) -> Dict:
    env = init_distributed()
    finished = False
    try:
        with output_lock(output_dir) if env.is_main else nullcontext():  # one run at a time per output dir
            run = prepare_run(settings, output_dir, env.world_size, allow_config_change)
            barrier(env)  # every rank has checked the output dir before rank 0 writes to it
            result = train(run, env)
            finished = True
            return result
    finally:
        shutdown(env, finished)


def evaluate(module, run: Run, env: DistEnv, amp: Optional[torch.dtype]) -> Dict[str, float]:
    """Loss, accuracy and (for language models) perplexity on the held-back tail, with the same masks every time."""
    generator = torch.Generator().manual_seed(run.settings.training.seed + 1_000_003)
    loss_sum, n_correct, n_total = 0.0, 0, 0
    module.eval()
    with torch.no_grad(), autocast(env, amp):
        for ids in run.corpus.eval_batches(run.batch_seqs):
            inputs, labels = run.settings.objective.make_batch(ids, generator)
            loss, correct, n = module(inputs.to(env.device), labels.to(env.device))
            loss_sum += float(loss)
            n_correct += int(correct)
            n_total += int(n)
    module.train()
    mean = loss_sum / max(n_total, 1)
    scores = {"eval_loss": mean, "eval_accuracy": n_correct / max(n_total, 1)}
    if run.settings.objective.reports_perplexity:
        scores["eval_perplexity"] = math.exp(min(mean, 50.0))
    return scores


def autocast(env: DistEnv, amp: Optional[torch.dtype]):
    return torch.autocast(env.device.type, dtype=amp) if amp is not None else nullcontext()


class StopRequest(StopSignalHandler):
    """Ctrl-C or SIGTERM (a scheduler's preemption) asks the loop to finish its step,
    save a checkpoint and exit, so that no work since the last periodic checkpoint is
    lost. A second Ctrl-C interrupts at once, and so does the first one before the loop
    has anything to save: waiting for a minute-long warm start to end would only make
    the user press again."""

    def __init__(self):
        self.requested = False
        self.work_to_save = False

    def _handle(self, signum, frame):
        if self.requested or not self.work_to_save:
            raise KeyboardInterrupt
        self.requested = True


def train(run: Run, env: DistEnv) -> Dict:
    with StopRequest() as stop:
        return _train(run, env, stop)


def _train(run: Run, env: DistEnv, stop: StopRequest) -> Dict:
    settings, training, objective = run.settings, run.settings.training, run.settings.objective
    out = run.output_dir
    if env.is_main:
        out.mkdir(parents=True, exist_ok=True)
        write_marker(out, "pretrain")
        settings.encoder.adapt_tokenizer(run.tokenizer)
        run.tokenizer.save_pretrained(out)
        settings.config.to_disk(out / CONFIG_FILE)

    torch.manual_seed(training.seed)  # the same initial weights on every rank
    model = build_or_load_model(settings, run.tokenizer, resuming=run.resume_from is not None, verbose=env.is_main).to(env.device)
    module = objective.wrap(model, settings.encoder)
    # Weights an objective trains beside the encoder without exporting them (ELECTRA's
    # generator): checkpointed with it, or a resumed run would start them afresh.
    auxiliary = getattr(module, "auxiliary", None)
    optimizer = settings.optimizer.build(module)
    step, tokens, elapsed_before = 0, 0, 0.0
    warm_start = settings.warm_start
    if run.resume_from is None and warm_start is not None and warm_start.enabled and env.is_main:
        if settings.init_from is not None:
            msg.info(f"Continuing from {settings.init_from}: its embeddings are kept ([warm_start] does not apply)")
        else:
            # Rank 0 only: DDP copies its weights to the other ranks when it wraps the model.
            elapsed_before = warm_start.apply(model, run.tokenizer, run.corpus, run.doc_sep_id, training.seed)
    stop.work_to_save = True
    torch.manual_seed(training.seed + 1 + env.rank)  # dropout streams differ per rank
    mask_generator = torch.Generator().manual_seed(training.seed + 7919 * (env.rank + 1))
    sampler = WindowSampler(run.corpus, run.batch_seqs, training.seed, env.rank, env.world_size)
    if run.resume_from is not None:
        state = load_checkpoint(run.resume_from, model, optimizer, auxiliary)
        step, tokens, elapsed_before = state["step"], state["tokens"], state["elapsed_s"]
        sampler.load_state_dict(state["sampler"])
        if state["world_size"] == env.world_size:
            set_rng_state(state["rng"][env.rank], mask_generator)
        else:
            torch.manual_seed(training.seed + 1 + env.rank + step)
            mask_generator.manual_seed(training.seed + 7919 * (env.rank + 1) + step)
            if env.is_main:
                msg.warn(f"Resuming with {env.world_size} processes instead of {state['world_size']}: random streams are reseeded.")
        if env.is_main:
            msg.info(f"Resuming from {run.resume_from} (step {step})")
            truncate_metrics(out / METRICS_FILE, step)

    amp = autocast_dtype(training.precision, env.device)
    if env.device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
    train_module = torch.compile(module) if training.compile else module
    if env.is_distributed:
        from torch.nn.parallel import DistributedDataParallel

        train_module = DistributedDataParallel(train_module, device_ids=[env.local_rank] if env.device.type == "cuda" else None)
    params = [p for p in module.parameters() if p.requires_grad]
    base_lr = settings.optimizer.lr
    budget_s = training.max_minutes * 60 if training.max_minutes is not None else None
    if budget_s is not None and step == 0:
        warm_start_s = from_main(env, elapsed_before)  # only rank 0 ran it; every rank must stop
        if warm_start_s >= budget_s:
            raise UserError(f"The warm start took {warm_start_s:.0f} s, all of [training] max_minutes ({training.max_minutes}): "
                            "raise max_minutes, or lower [warm_start] max_tokens or epochs.")

    started = time.perf_counter()

    def elapsed() -> float:
        return elapsed_before + time.perf_counter() - started

    def progress() -> float:
        fractions = [step / training.max_steps] if training.max_steps else []
        # Rank 0's clock on every rank: all ranks must use the same LR and stop together.
        fractions += [from_main(env, elapsed()) / budget_s] if budget_s else []
        return max(fractions)

    def finished() -> bool:
        # Rank 0's request on every rank: all ranks must stop at the same step.
        return progress() >= 1.0 or from_main(env, float(stop.requested)) > 0

    if env.is_main:
        msg.info(
            f"Pretraining {settings.encoder.family} ({sum(p.numel() for p in params) / 1e6:.1f}M parameters) with "
            f"{objective.name} prediction on {len(run.corpus.train)} windows of {training.seq_len} tokens, "
            f"{env.world_size} process(es) on {env.device.type}, precision {'bf16' if amp else 'fp32'}"
        )
        if run.epoch_steps is not None:
            msg.info(f"{training.max_epochs:g} epoch(s) over the training windows: {run.epoch_steps} steps"
                     + (f" (max_minutes {training.max_minutes:g} may end it first)" if budget_s else ""))
        print(row(TABLE_HEADER, widths=TABLE_WIDTHS))
    bar = tqdm(total=training.max_steps, initial=step, desc="pretrain", unit="step", disable=not env.is_main, dynamic_ncols=True)
    # The loss stays on the device until a log step: reading it each step would sync a GPU.
    window_loss, window_steps, window_tokens = torch.zeros((), device=env.device), 0, 0
    last_row: Dict = {}
    done = finished()
    while not done:
        if window_steps == 0:
            # Wall clock from here to the log step's loss read, which waits for the GPU:
            # summing per-step times would miss the kernels still queued when a step returns.
            window_started = time.perf_counter()
        step += 1
        lr = base_lr * settings.schedule(step, progress())
        for group in optimizer.param_groups:
            group["lr"] = lr
        for micro in range(training.grad_accum):
            inputs, labels = objective.make_batch(sampler.next_batch(), mask_generator)
            inputs, labels = inputs.to(env.device, non_blocking=True), labels.to(env.device, non_blocking=True)
            no_sync = env.is_distributed and micro < training.grad_accum - 1
            with (train_module.no_sync() if no_sync else nullcontext()), autocast(env, amp):
                loss_sum, _, n_predicted = train_module(inputs, labels)
                loss = loss_sum / max(int(n_predicted), 1) / training.grad_accum
            loss.backward()
            window_loss += loss.detach().float()
        if settings.optimizer.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(params, settings.optimizer.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if step % TRIM_EVERY == 0:
            release_free_memory()  # RSS grew without bound otherwise (spacy_wv/memory.py)
        tokens += training.batch_tokens
        window_steps += 1
        window_tokens += training.batch_tokens
        done = finished()
        bar.update(1)

        record: Dict = {}
        if step % training.log_every == 0 or done:
            mean_loss = float(all_reduce_sum(env, (window_loss / window_steps).reshape(1))[0]) / env.world_size
            window_time = time.perf_counter() - window_started
            record = {"step": step, "tokens": tokens, "loss": mean_loss, "lr": lr,
                      "tokens_per_s": window_tokens / max(window_time, 1e-9), "elapsed_s": elapsed()}
            bar.set_postfix(loss=f"{mean_loss:.3f}", lr=f"{lr:.2e}", tok_s=f"{record['tokens_per_s']:.0f}")
            window_loss, window_steps, window_tokens = torch.zeros((), device=env.device), 0, 0
        if (step % training.eval_every == 0 or done) and len(run.corpus.eval):
            if env.is_main:
                record = {"step": step, "tokens": tokens, "lr": lr, "elapsed_s": elapsed(), **record}
                record.update(evaluate(module, run, env, amp))
            barrier(env)
        if record and env.is_main:
            with (out / METRICS_FILE).open("a", encoding="utf8") as f:
                f.write(json.dumps(record) + "\n")
            if "eval_loss" in record:
                bar.clear()
                print(table_row(record))
                bar.refresh()
            last_row = {**last_row, **record}
        if step % training.checkpoint_every == 0 or done:
            rng_states = gather_objects(env, rng_state(mask_generator))
            if env.is_main:
                state = {"step": step, "tokens": tokens, "elapsed_s": elapsed(), "sampler": sampler.state_dict(),
                         "config_hash": settings.config_hash, "data_fingerprint": run.data_fingerprint, "world_size": env.world_size, "seed": training.seed,
                         "init_from_fingerprint": run.init_fingerprint}
                save_checkpoint(out, step, model, optimizer, rng_states, state, training.keep_checkpoints, auxiliary)
            barrier(env)
    bar.close()
    if env.is_main and stop.requested:
        msg.warn(f"Stopped on request at step {step}; checkpoint saved in {out}. Run the same command again to resume.")
    elif env.is_main:
        msg.good(f"Pretrained to step {step} ({tokens} tokens); model in {out}")
    return last_row


def table_row(record: Dict) -> str:
    def fmt(key, spec):
        return format(record[key], spec) if key in record else ""

    return row(
        [record["step"], record["tokens"], fmt("loss", ".3f"), fmt("lr", ".2e"), fmt("eval_loss", ".3f"),
         fmt("eval_accuracy", ".3f"), fmt("eval_perplexity", ".1f"), fmt("tokens_per_s", ".0f"),
         f"{record['elapsed_s'] / 60:.1f}"],
        widths=TABLE_WIDTHS,
    )


def truncate_metrics(path: Path, step: int) -> None:
    """Drop rows logged after the checkpoint being resumed: those steps run again."""
    if not path.exists():
        return
    rows = [line for line in path.read_text(encoding="utf8").splitlines() if line.strip()]
    kept = [line for line in rows if json.loads(line)["step"] <= step]
    path.write_text("".join(line + "\n" for line in kept), encoding="utf8")
