from pathlib import Path
from typing import List

import typer
from wasabi import msg

from ._app import INPUTS_HELP, app


@app.command("encode")
def encode_command(
    tokenizer_dir: Path = typer.Argument(..., help="A tokenizer directory (from `python -m spacy_wv tokenizer`, or a model directory)."),
    output_dir: Path = typer.Argument(..., help="Directory to write the token shards to."),
    inputs: List[Path] = typer.Argument(..., help=INPUTS_HELP),
    shard_tokens: int = typer.Option(50_000_000, "--shard-tokens", help="Tokens per shard file."),
    batch_size: int = typer.Option(1000, "--batch-size", help="Documents tokenized together (a batch also stops at about 2M characters)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace token shards made with another tokenizer (never any other directory)."),
    workers: int = typer.Option(0, "--workers", help="Processes that tokenize in parallel (0: one per core)."),
):
    """Tokenize raw text into token shards for pretraining."""
    from ..corpus.encode import encode_corpus

    meta = encode_corpus(tokenizer_dir, inputs, output_dir, batch_size=batch_size, shard_tokens=shard_tokens,
                         overwrite=overwrite, workers=workers or None)
    msg.good(f"Wrote {meta['n_tokens']:,} tokens of {meta['n_docs']:,} documents in {len(meta['shards'])} "
             f"{meta['dtype']} shards to {output_dir}")
