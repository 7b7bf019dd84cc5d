"""`python -m spacy_wv vectors fasttext ...`: same-corpus fastText vectors for spaCy."""
from pathlib import Path
from typing import List, Optional

import typer
from wasabi import msg

from ._app import vectors_app


@vectors_app.command("fasttext")
def fasttext_command(
    output: Path = typer.Argument(..., help="Output file: word2vec text format (for `spacy init vectors`)"),
    inputs: List[Path] = typer.Argument(..., help="Raw text files or folders (.txt/.jsonl, optionally .gz)"),
    dim: int = typer.Option(100, "--dim", help="Vector size"),
    epochs: int = typer.Option(5, "--epochs", help="Passes over the corpus"),
    min_count: int = typer.Option(3, "--min-count", help="Ignore words rarer than this"),
    window: int = typer.Option(5, "--window", help="Context window, in words"),
    max_words: Optional[int] = typer.Option(None, "--max-words", help="Write only this many of the most frequent words"),
    lang: str = typer.Option("en", "--lang", help="spaCy language code of the tokenizer (tokens as a pipeline sees them)"),
    workers: int = typer.Option(0, "--workers", help="Training threads (0: all cores)"),
    bucket: int = typer.Option(200_000, "--bucket", help="Hash buckets of the character n-grams"),
    subwords: Optional[Path] = typer.Option(None, "--subwords", help="Also write the n-gram buckets here (.npz): vectors for words outside the table (`vectors join`)"),
    seed: int = typer.Option(0, "--seed"),
):
    """Train fastText vectors (gensim) on the text, tokenized as spaCy tokenizes it.
    Then: python -m spacy init vectors LANG OUTPUT VECTORS_DIR, and train with
    --paths.vectors VECTORS_DIR --components.tok2vec.model.embed.include_static_vectors true."""
    from ..vectors.fasttext import FastTextSettings, train_fasttext

    settings = FastTextSettings(dim=dim, epochs=epochs, min_count=min_count, window=window, max_words=max_words,
                                lang=lang, workers=workers, bucket=bucket, seed=seed).check()
    stats = train_fasttext(inputs, output, settings, subwords)
    msg.good(f"Trained fastText on {stats['tokens']:,} tokens in {stats['seconds']} s "
             f"(tokenizing {stats['tokenize_s']} s); wrote {stats['words']:,} vectors of {dim} dims to {output}"
             + (f" and {bucket:,} n-gram buckets to {subwords}" if subwords else ""))

