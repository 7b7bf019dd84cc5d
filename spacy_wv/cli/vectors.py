"""`python -m spacy_wv vectors export ...` and `python -m spacy_wv vectors evaluate ...`.

Heavy imports (torch, transformers, spaCy pipelines) happen inside the commands, so
that `python -m spacy_wv --help` stays fast.
"""
import json
import time
from contextlib import nullcontext
from pathlib import Path
from typing import List, Optional

import typer
from wasabi import msg

from ..errors import UserError
from ..outputs import LegacyFiles, atomic_output_dir, claim_output_dir, scratch_dir
from ._app import vectors_app

RESULTS_JSON = "results.json"
RESULTS_PNG = "results.png"
# Results written before output markers.
LEGACY_RESULTS_FILES = LegacyFiles({RESULTS_JSON, RESULTS_PNG})


@vectors_app.command("export")
def export_command(
    encoder: Path = typer.Argument(..., help="Hugging Face encoder dir (config.json, weights, tokenizer) or a spaCy pipeline with a transformer"),
    output_dir: Path = typer.Argument(..., help="Output: a spaCy pipeline dir holding the vectors, plus vectors.w2v.txt"),
    inputs: List[Path] = typer.Argument(..., help="Raw text files or folders (.txt/.jsonl, optionally .gz)"),
    n_words: int = typer.Option(30_000, "--n-words", help="How many of the most frequent word types get a vector"),
    contexts: int = typer.Option(20, "--contexts", help="Occurrences averaged per word, sampled uniformly across the corpus"),
    layer: Optional[int] = typer.Option(None, "--layer", help="Hidden layer to use (0 = embeddings, -1 = last)"),
    layers: Optional[str] = typer.Option(None, "--layers", help="Comma-separated layers to average (default 0,1,2: embeddings and the lower layers, measured best)"),
    pooling: str = typer.Option("mean", "--pooling", help="Wordpiece pooling: first, last, mean, max, first_last"),
    center: bool = typer.Option(False, "--center", help="Subtract the mean vector"),
    remove_pcs: int = typer.Option(0, "--remove-pcs", help="Remove the top D principal components (all-but-the-top; implies --center)"),
    lowercase: bool = typer.Option(False, "--lowercase", help="Count and average word types case-insensitively (keys lower-cased)"),
    whitespace: bool = typer.Option(False, "--whitespace", help="The text is pre-tokenised: split words at whitespace instead of spaCy's English tokenizer"),
    segmenter: Optional[str] = typer.Option(None, "--segmenter", help="Chinese text: cut words with jieba (words) or char (characters) instead of spaCy's English tokenizer"),
    window: int = typer.Option(5, "--window", help="Context: this many words either side of the sampled occurrence (within its line)"),
    batch_size: int = typer.Option(256, "--batch-size", help="Context windows per encoder batch"),
    distill: bool = typer.Option(False, "--distill", help="Train the table further with an X2Static-style CBOW objective on the encoder's contexts (measured: see benchmarks/RESULTS.md)"),
    threads: int = typer.Option(0, "--threads", help="Torch threads (0: torch's default)"),
    seed: int = typer.Option(0, "--seed", help="Seed of the occurrence sampling"),
):
    """Export static word vectors: average each frequent word's contextual vectors over sampled occurrences."""
    from ..hf_dirs import load_encoder
    from ..vectors.export import ExportSettings, check_corpus_segmentation, export_vectors
    from ..vectors.tables import W2V_FILE
    from ..vectors.wordvectors import LEGACY_EXPORT_FILES, write_export

    if layer is not None and layers is not None:
        raise UserError("Give --layer or --layers, not both")
    settings = ExportSettings(
        n_words=n_words, contexts=contexts, layers=_layer_list(layer, layers), pooling=pooling, lowercase=lowercase,
        whitespace=whitespace, segmenter=segmenter, window=window, batch_size=batch_size, seed=seed, distill=distill,
    ).check()
    missing = [str(path) for path in inputs if not path.exists()]
    if missing:
        raise UserError(f"Input not found: {', '.join(missing)}")
    with claim_output_dir(output_dir, "vectors", [encoder, *inputs], legacy=LEGACY_EXPORT_FILES):
        check_corpus_segmentation(inputs, settings)
        if threads > 0:
            import torch

            torch.set_num_threads(threads)
        model, tokenizer = load_encoder(encoder)
        if not 0 <= remove_pcs < model.config.hidden_size:
            raise UserError(f"--remove-pcs must be between 0 and {model.config.hidden_size - 1}, got {remove_pcs}")
        start = time.perf_counter()
        with scratch_dir(output_dir) as scratch:
            result = export_vectors(model, tokenizer, inputs, settings, workdir=scratch)
        info = {"encoder": str(encoder.resolve()), "inputs": [str(p) for p in inputs],
                "tokenization": f"{segmenter} segmenter" if segmenter else "whitespace" if whitespace else "spaCy blank English tokenizer"}
        with atomic_output_dir(output_dir, kind="vectors") as tmp_dir:
            write_export(tmp_dir, result, center, remove_pcs, info, settings)
    total = time.perf_counter() - start
    msg.good(f"Wrote {len(result.words):,} vectors x {result.table.shape[1]} ({result.stats['pooled_words']:,} pooled from contexts, "
             f"{result.stats['composed_words']:,} composed from pieces) to {output_dir} (spaCy) and {output_dir / W2V_FILE} (word2vec text) "
             f"in {total / 60:.1f} min: {result.stats['corpus_words'] / total:,.0f} corpus words/s")


@vectors_app.command("join")
def join_command(
    encoder_vectors: Path = typer.Argument(..., help="A `vectors export` directory (the encoder part)"),
    fasttext: Path = typer.Argument(..., help="fastText word2vec text table (`vectors fasttext` output)"),
    subwords: Path = typer.Argument(..., help="Its n-gram buckets (`vectors fasttext --subwords` output)"),
    output_dir: Path = typer.Argument(..., help="Output: a spaCy pipeline dir holding the joint vectors, plus vectors.w2v.txt"),
    fit: List[Path] = typer.Option([], "--fit", help="Dev word-similarity file (word1<TAB>word2<TAB>score) to choose the weights on; repeatable"),
    encoder_weight: Optional[float] = typer.Option(None, "--encoder-weight", help="Fix the encoder part's weight (0-1) instead of fitting it"),
    encoder_pcs: Optional[int] = typer.Option(None, "--encoder-pcs", help="Fix the top components removed from the encoder part"),
    fasttext_pcs: Optional[int] = typer.Option(None, "--fasttext-pcs", help="Fix the top components removed from the fastText part"),
    max_words: Optional[int] = typer.Option(None, "--max-words", help="Table size (default: every word of both tables)"),
    objective: str = typer.Option("worst_gain", "--objective", help="Fit: worst_gain (the smallest gain over fastText alone across the --fit sets, maximised) or mean (the mean rho)"),
    encoder: Optional[Path] = typer.Option(None, "--encoder", help="The encoder of the export, if it moved (composes the encoder part of words outside its table)"),
):
    """Join encoder vectors and fastText subword vectors: each part post-processed, normalised and weighted, the weights fitted on dev similarity sets."""
    from ..vectors.joint import JointSettings, build_joint, fit_summary, write_joint
    from ..vectors.similarity import read_word_pairs
    from ..vectors.subwords import SubwordVectors
    from ..vectors.tables import read_word2vec
    from ..vectors.wordvectors import WordVectors

    settings = JointSettings(encoder_weight=encoder_weight, encoder_pcs=encoder_pcs, fasttext_pcs=fasttext_pcs, max_words=max_words,
                             objective=objective).check()
    for path in [encoder_vectors, fasttext, subwords, *fit]:
        if not path.exists():
            raise UserError(f"Not found: {path}")
    with claim_output_dir(output_dir, "vectors", [encoder_vectors, fasttext, subwords, *fit]):
        start = time.perf_counter()
        fit_sets = [read_word_pairs(path) for path in fit]
        subword_vectors = SubwordVectors.load(subwords)
        result = build_joint(WordVectors.load(encoder_vectors, encoder), read_word2vec(fasttext), subword_vectors, fit_sets, settings)
        info = {"encoder_vectors": str(encoder_vectors.resolve()), "fasttext": str(fasttext.resolve()), "subwords": str(subwords.resolve()),
                "encoder": str(encoder.resolve()) if encoder else None,
                "fit_files": [str(path) for path in fit], "lowercase": result.lowercase,
                "settings": vars(settings), "seconds": round(time.perf_counter() - start, 1)}
        with atomic_output_dir(output_dir, kind="vectors") as tmp_dir:
            write_joint(tmp_dir, result, subword_vectors, info)
    if result.fit:
        msg.info(fit_summary(result.fit))
    msg.good(f"Wrote {len(result.words):,} joint vectors x {result.table.shape[1]} to {output_dir} in {time.perf_counter() - start:.0f} s")


@vectors_app.command("evaluate")
def evaluate_command(
    vectors: List[Path] = typer.Argument(..., help="word2vec text files, spaCy vectors dirs, or pipelines (contextual vectors)"),
    similarity: List[Path] = typer.Option([], "--similarity", help="word1<TAB>word2<TAB>score file (repeatable)"),
    analogy: Optional[Path] = typer.Option(None, "--analogy", help="questions-words.txt format file"),
    in_context: List[Path] = typer.Option([], "--in-context", help="JSONL pairs of a word in two contexts (WiC layout: context1/2, start1/2, end1/2, label or score); repeatable"),
    in_context_train: List[Path] = typer.Option([], "--in-context-train", help="Training pairs for the cosine threshold of each --in-context file with labels (e.g. wic/train.jsonl), in the same order"),
    output_dir: Optional[Path] = typer.Option(None, "--output-dir", help="Write results.json and results.png here"),
    names: Optional[str] = typer.Option(None, "--names", help="Comma-separated display names, one per vector set"),
    top_n: int = typer.Option(30_000, "--top-n", help="Analogy candidates: the N most frequent words of a static table"),
):
    """Evaluate vector sets on word similarity (Spearman), analogies (3CosAdd, 3CosMul) and words in context (WiC accuracy, or Spearman); print, save JSON and a bar chart."""
    from ..vectors.evaluate import evaluate_sources, json_ready, print_results
    from ..vectors.plot import plot_results
    from ..vectors.sources import load_source

    if not similarity and analogy is None and not in_context:
        raise UserError("Nothing to evaluate: give --similarity FILE, --analogy FILE and/or --in-context FILE")
    if top_n < 1:
        raise UserError("--top-n must be positive")
    display_names = _display_names(vectors, names)
    for path in [*vectors, *similarity, *([analogy] if analogy else []), *in_context, *in_context_train]:
        if not path.exists():
            raise UserError(f"Not found: {path}")
    inputs = [*vectors, *similarity, analogy, *in_context, *in_context_train]
    with claim_output_dir(output_dir, "evaluation", inputs, LEGACY_RESULTS_FILES) if output_dir is not None else nullcontext():
        sources = [load_source(path, name) for path, name in zip(vectors, display_names)]
        results = evaluate_sources(sources, similarity, analogy, top_n, in_context, in_context_train)
        print_results(results)
        if output_dir is not None:
            with atomic_output_dir(output_dir, kind="evaluation") as tmp_dir:
                (tmp_dir / RESULTS_JSON).write_text(json.dumps(json_ready(results), indent=2), encoding="utf8")
                plot_results(results, tmp_dir / RESULTS_PNG)
            msg.good(f"Wrote {output_dir / RESULTS_JSON} and {output_dir / RESULTS_PNG}")


def _layer_list(layer: Optional[int], layers: Optional[str]) -> List[int]:
    if layers is None:
        from ..vectors.export import DEFAULT_LAYERS

        return list(DEFAULT_LAYERS) if layer is None else [layer]
    try:
        return [int(part) for part in layers.split(",") if part.strip()]
    except ValueError:
        raise UserError(f"--layers must be comma-separated integers, got {layers!r}") from None


def _display_names(paths: List[Path], names: Optional[str]) -> List[str]:
    if names is None:
        chosen = [path.stem if path.is_file() else path.name for path in paths]
    else:
        chosen = [name.strip() for name in names.split(",")]
        if len(chosen) != len(paths):
            raise UserError(f"--names has {len(chosen)} names for {len(paths)} vector sets")
    if len(set(chosen)) != len(chosen):
        chosen = [f"{i + 1}:{name}" for i, name in enumerate(chosen)]
    return chosen

