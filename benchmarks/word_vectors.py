"""Static vectors from our encoder against gensim Word2Vec (skip-gram) and FastText,
all trained/exported on the same raw text, scored on WordSim-353, SimLex-999 and the
Google analogies.

    python benchmarks/word_vectors.py ENCODER_DIR [--max-mb 5] [--out-dir bench_out] [--reuse]

With `--reuse`, the tokenised corpus and the baselines already in `--out-dir` (with
their minutes) are read back instead of recomputed, so the baselines are trained
once and our export can be re-run with other settings (layers, contexts, post-processing).

The text is the default pretraining corpus (wikipedia_en, reuters21578, gutenberg,
brown, us_speeches), tokenised once with spaCy's blank English tokenizer; with
`--max-mb` each folder contributes its share of the first MB. All three vector sets
keep only the `--n-words` most frequent words, so coverage is comparable. Prints the
scores side by side with the minutes each method took; writes results.json/.png.
"""
import argparse
import json
import time
from pathlib import Path

import numpy

import spacy_wv  # noqa: F401 (offline settings)
from spacy_wv.vectors.analogy import DEFAULT_TOP_N
from spacy_wv.vectors.encoder import load_encoder
from spacy_wv.vectors.evaluate import evaluate_sources, json_ready, print_results
from spacy_wv.vectors.export import ExportSettings, export_vectors, iter_contexts, postprocess
from spacy_wv.vectors.plot import plot_results
from spacy_wv.vectors.sources import StaticSource
from spacy_wv.vectors.tables import StaticVectors, read_word2vec, write_word2vec

CORPUS_FOLDERS = ("wikipedia_en", "reuters21578", "gutenberg", "brown", "us_speeches")
MB = 1 << 20


def sample_corpus(data: Path, max_mb, out: Path) -> Path:
    """Copy the corpus (or each folder's share of `max_mb`) into one file."""
    folders = [data / name for name in CORPUS_FOLDERS]
    sizes = {folder: sum(f.stat().st_size for f in folder.rglob("*.txt")) for folder in folders}
    total = sum(sizes.values())
    with out.open("w", encoding="utf8") as sink:
        for folder in folders:
            budget = sizes[folder] if max_mb is None else max_mb * MB * sizes[folder] / total
            for path in sorted(folder.rglob("*.txt")):
                if budget <= 0:
                    break
                text = path.read_text(encoding="utf8")[: int(budget)]
                budget -= len(text.encode("utf8"))
                sink.write(text.rsplit("\n", 1)[0] if budget <= 0 else text)
                sink.write("\n\n")
    return out


def tokenise(corpus: Path, out: Path) -> Path:
    """One context per line, words separated by single spaces (the same words for all methods)."""
    with out.open("w", encoding="utf8", newline="\n") as sink:
        for words in iter_contexts([corpus], whitespace=False, max_words=10_000):
            sink.write(" ".join(words) + "\n")
    return out


def gensim_vectors(method: str, tokenised: Path, args) -> StaticVectors:
    from gensim.models import FastText, Word2Vec

    model_class = Word2Vec if method == "word2vec" else FastText
    model = model_class(
        corpus_file=str(tokenised), sg=1, vector_size=args.dim, window=5, min_count=args.min_count,
        negative=5, epochs=args.epochs, workers=args.workers, seed=0,
    )
    # In-vocabulary vectors only (no FastText subword guesses for unknown words), and
    # the same number of words as ours, so that coverage is comparable.
    words = model.wv.index_to_key[: args.n_words]
    return StaticVectors(list(words), numpy.asarray(model.wv.vectors[: len(words)], dtype="float32"))


def our_vectors(tokenised: Path, args) -> StaticVectors:
    model, tokenizer = load_encoder(args.encoder)
    settings = ExportSettings(
        n_words=args.n_words, contexts=args.contexts, layers=[int(x) for x in args.layers.split(",")],
        pooling=args.pooling, whitespace=True, max_words=args.max_words,
    )
    result = export_vectors(model, tokenizer, [tokenised], settings)
    return StaticVectors(result.words, postprocess(result.table, args.center, args.remove_pcs))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("encoder", type=Path, help="MLM encoder dir (Hugging Face format) or a pipeline with a transformer")
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--max-mb", type=float, default=None, help="Use only this many MB of text (smoke runs)")
    parser.add_argument("--out-dir", type=Path, default=Path("benchmarks_out/word_vectors"))
    parser.add_argument("--n-words", type=int, default=DEFAULT_TOP_N)
    parser.add_argument("--contexts", type=int, default=10)
    parser.add_argument("--layers", default="-1", help="comma-separated encoder layers to average")
    parser.add_argument("--pooling", default="mean")
    parser.add_argument("--dim", type=int, default=300, help="gensim vector size")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip", default="", help="comma-separated methods to skip: word2vec,fasttext,ours")
    parser.add_argument("--center", action="store_true", help="ours: subtract the mean vector")
    parser.add_argument("--remove-pcs", type=int, default=0, help="ours: remove the top principal components (implies --center)")
    parser.add_argument("--max-words", type=int, default=128, help="ours: longest context fed to the encoder, in words")
    parser.add_argument("--reuse", action="store_true", help="read back the tokenised corpus and the baselines already in --out-dir")
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    skip = {name.strip() for name in args.skip.split(",") if name.strip()}

    corpus, tokenised = args.out_dir / "corpus.txt", args.out_dir / "corpus.tok.txt"
    tokenise_minutes = 0.0
    if not (args.reuse and tokenised.exists()):
        sample_corpus(args.data, args.max_mb, corpus)
        start = time.perf_counter()
        tokenise(corpus, tokenised)
        tokenise_minutes = (time.perf_counter() - start) / 60
    n_words = sum(len(line.split(" ")) for line in tokenised.open(encoding="utf8"))
    print(f"Corpus: {corpus.stat().st_size / MB:.1f} MB, {n_words:,} words, tokenised in {tokenise_minutes:.1f} min (shared by all methods)")

    tables, minutes = {}, {}
    for method in ("word2vec", "fasttext", "ours"):
        saved, saved_minutes = args.out_dir / f"{method}.w2v.txt", args.out_dir / f"{method}.minutes.json"
        if method in skip:
            continue
        if args.reuse and method != "ours" and saved.exists() and saved_minutes.exists():
            tables[method] = read_word2vec(saved)
            minutes[method] = json.loads(saved_minutes.read_text())["minutes"]
            continue
        start = time.perf_counter()
        tables[method] = gensim_vectors(method, tokenised, args) if method != "ours" else our_vectors(tokenised, args)
        minutes[method] = (time.perf_counter() - start) / 60
        write_word2vec(saved, tables[method].words, tables[method].table)
        saved_minutes.write_text(json.dumps({"minutes": minutes[method]}))

    wordsim = args.data / "wordsim"
    results = evaluate_sources(
        [StaticSource(name, table) for name, table in tables.items()],
        [wordsim / "ws353_all.tsv", wordsim / "simlex999.tsv"], args.data / "analogy" / "questions-words.txt", args.n_words,
    )
    for name in tables:
        results["vectors"][name]["minutes"] = minutes[name]
    results.update(corpus_mb=corpus.stat().st_size / MB, corpus_words=n_words, encoder=str(args.encoder))
    print_results(results)
    print("Minutes: " + ", ".join(f"{name} {value:.1f}" for name, value in minutes.items()) + f" (+ {tokenise_minutes:.1f} tokenising)")
    (args.out_dir / "results.json").write_text(json.dumps(json_ready(results), indent=2), encoding="utf8")
    plot_results(results, args.out_dir / "results.png")
    print(f"Wrote {args.out_dir / 'results.json'} and {args.out_dir / 'results.png'}")


if __name__ == "__main__":
    main()
