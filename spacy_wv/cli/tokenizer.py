import time
from pathlib import Path
from typing import List, Optional

import typer
from wasabi import msg

from ._app import INPUTS_HELP, app


@app.command("tokenizer")
def tokenizer_command(
    output_dir: Path = typer.Argument(..., help="Directory to save the tokenizer to (a Hugging Face fast tokenizer)."),
    inputs: List[Path] = typer.Argument(..., help=INPUTS_HELP),
    kind: str = typer.Option("wordpiece", "--kind", help="wordpiece (BERT), bpe (byte-level, RoBERTa/GPT-2) or unigram (SentencePiece)."),
    vocab_size: int = typer.Option(16000, "--vocab-size", help="Number of tokens in the vocabulary, special tokens included."),
    lowercase: bool = typer.Option(True, "--lowercase/--cased", help="Lowercase (and, for wordpiece, strip accents) before tokenizing."),
    min_frequency: int = typer.Option(2, "--min-frequency", help="Least count of a merged piece (wordpiece, bpe)."),
    max_mb: Optional[float] = typer.Option(None, "--max-mb", help="Train on at most this many MB of the inputs."),
    cjk: str = typer.Option("auto", "--cjk", help="auto, chars or off: cut every CJK character out as its own piece (as Chinese BERT); auto: always for wordpiece, else when the text is at least 10% CJK."),
):
    """Train a subword tokenizer on raw text."""
    from ..corpus.text import ReadStats
    from ..corpus.tokenizer_training import train_tokenizer

    stats = ReadStats()
    start = time.perf_counter()
    tokenizer = train_tokenizer(inputs, output_dir, kind=kind, vocab_size=vocab_size, lowercase=lowercase,
                                min_frequency=min_frequency, max_mb=max_mb, stats=stats, cjk=cjk)
    msg.good(f"Trained a {kind} tokenizer of {len(tokenizer)} tokens on {stats.documents} documents "
             f"({stats.bytes_read / 1e6:.1f} MB) in {time.perf_counter() - start:.1f} s"
             f"{'; CJK characters split' if tokenizer.cjk_chars else ''}")
    msg.text(f"Saved to {output_dir}")
