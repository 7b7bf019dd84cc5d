"""Word vectors from our encoder against gensim Word2Vec (skip-gram) and FastText, all on
the same raw text; static and in-context scores in one table.

    python benchmarks/word_vectors.py ENCODER_DIR [--max-mb 5] [--out-dir /tmp/wv_bench] [--reuse]

Rows (columns of the printed table):
- word2vec, fasttext: gensim on the same tokenised text (cached in --out-dir; `--reuse`);
- ours pool <set>: static vectors pooled over sampled contexts from each layer set of
  `--layer-sets` (one export pass keeps every layer, so each set costs nothing more;
  exact for mean pooling), words outside the table composed from their pieces;
- ours distill: `--distill` on the default layers (X2Static-style, a second pass);
- wv_vectors <set> <anisotropy>: the contextual vectors a `wv_vectors` user gets
  (similarity: words in isolation; WiC: the target in its sentence), for each layer set
  and anisotropy mode (none / center / whiten, statistics from `--calibration-lines`
  lines of the corpus). The transformer runs once over all the texts; every variant is
  then pooled from the cached per-layer token vectors, as `wv_vectors` pools them.

Scores: WS353 and SimLex-999 (Spearman), Google analogies (3CosAdd; static tables rank
their `--n-words` words; contextual analogy ranks the question words only and is printed
apart), WiC dev accuracy with the cosine threshold fitted on WiC train (static vectors:
context-free cosines, a floor near 50%), coverage, and minutes.
"""
import argparse
import json
import time
from pathlib import Path
from typing import Dict, List

import numpy

import spacy_wv  # noqa: F401 (offline settings)
from spacy_wv.corpus.word_lines import iter_word_lines, make_segmenter, write_word_lines
from spacy_wv.hf_dirs import load_encoder
from spacy_wv.vectors.analogy import DEFAULT_TOP_N
from spacy_wv.vectors.composer import Composer
from spacy_wv.vectors.evaluate import evaluate_sources, json_ready, print_results
from spacy_wv.vectors.export import ExportSettings, export_vectors
from spacy_wv.vectors.plot import plot_results
from spacy_wv.vectors.sources import ContextualSource, StaticSource
from spacy_wv.vectors.tables import StaticVectors, read_word2vec, write_word2vec
from spacy_wv.vectors.window_encoder import WindowEncoder

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
    write_word_lines(iter_word_lines([corpus], make_segmenter(), max_words=10_000), out)
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


class Composed:
    """A table plus composition of the words outside it (what `WordVectors` does for an export dir)."""

    def __init__(self, table: StaticVectors, composer: Composer):
        self.table, self.composer = table, composer

    def lookup(self, words):
        vectors, found = self.table.lookup(words)
        missing = numpy.flatnonzero(~found)
        if missing.size:
            vectors[missing] = self.composer.compose([words[i] for i in missing])
            found[missing] = True
        return vectors, found


def parse_layer_sets(text: str) -> Dict[str, List[int]]:
    sets = {}
    for part in text.split(";"):
        name, layers = part.split("=")
        sets[name.strip()] = [int(x) for x in layers.split(",")]
    return sets


def our_static_rows(tokenised: Path, args, layer_sets: Dict[str, List[int]]):
    """One export pass keeping every layer; a table (and a composer) per layer set."""
    model, tokenizer = load_encoder(args.encoder)
    n_layers = model.config.num_hidden_layers + 1
    all_layers = sorted({layer % n_layers for layers in layer_sets.values() for layer in layers})
    settings = ExportSettings(n_words=args.n_words, contexts=args.contexts, layers=all_layers, whitespace=True, window=args.window, per_layer=True)
    start = time.perf_counter()
    result = export_vectors(model, tokenizer, [tokenised], settings)
    minutes = (time.perf_counter() - start) / 60
    sources, info = [], {"per_layer_pass_minutes": minutes, "stats": result.stats}
    for name, layers in layer_sets.items():
        columns = [all_layers.index(layer % n_layers) for layer in layers]
        table = result.per_layer[:, columns].mean(1)
        composer = Composer.fit(WindowEncoder(model, tokenizer, layers, "mean"), result.words, table, result.pooled, settings.compose_ridge)
        static = StaticVectors(result.words, table)
        sources.append(StaticSource(f"pool {name}", static, Composed(static, composer)))
        info[f"pool {name}"] = {"layers": layers, "composition_heldout_cosine": composer.heldout_cosine}
    return sources, info


def our_distilled_row(tokenised: Path, args, layers: List[int]):
    model, tokenizer = load_encoder(args.encoder)
    settings = ExportSettings(n_words=args.n_words, contexts=args.contexts, layers=layers, whitespace=True, window=args.window, distill=True)
    start = time.perf_counter()
    result = export_vectors(model, tokenizer, [tokenised], settings)
    minutes = (time.perf_counter() - start) / 60
    static = StaticVectors(result.words, result.table)
    return StaticSource("distill", static, Composed(static, result.composer)), minutes, result.stats


class CachedPipeline:
    """Stands in for `nlp` (transformer + wv_vectors) in the evaluation: the transformer
    has run once per text; `variant` pools the cached per-layer token vectors."""

    def __init__(self, cache: Dict[str, "object"], per_layer: Dict[str, numpy.ndarray], layers: List[int], statistics, mode: str):
        from spacy_wv.pipeline.vectors import ContextualVectors

        self.cache, self.per_layer, self.layers = cache, per_layer, layers
        self.component = ContextualVectors(layers=layers, anisotropy=mode)
        if mode != "none":
            self.component.mean, self.component.transform, self.component.calibration = statistics
        self.pipe_names = ["transformer", "wv_vectors"]

    def vectors(self, text: str) -> numpy.ndarray:
        rows = self.per_layer[text][:, self.layers].astype("float32").mean(1)
        return self.component._isotropic(rows) if self.component.anisotropy != "none" else rows

    def pipe(self, texts, batch_size: int = 128):
        from spacy_wv.pipeline.vectors import set_vector_hooks

        for text in texts:
            doc = self.cache[text]
            doc.tensor = self.vectors(text)
            set_vector_hooks(doc)
            yield doc


def contextual_rows(args, layer_sets: Dict[str, List[int]], texts: List[str], calibration: List[str]):
    """wv_vectors variants (layer set x anisotropy), all from one transformer pass."""
    import spacy

    from spacy_wv.pipeline.vectors import ContextualVectors, TokenStatistics

    model, _ = load_encoder(args.encoder)
    n_layers = model.config.num_hidden_layers + 1
    nlp = spacy.blank("en")
    nlp.add_pipe("transformer", config={"model": {"@architectures": "spacy-transformers.TransformerModel.v3", "name": str(args.encoder),
                                                  "tokenizer_config": {"use_fast": True}, "transformer_config": {"output_hidden_states": True}}})
    nlp.initialize()
    single = [ContextualVectors(layers=[layer]) for layer in range(n_layers)]
    start = time.perf_counter()
    cache, per_layer = {}, {}
    unique = list(dict.fromkeys(texts + calibration))
    for doc in nlp.pipe(unique, batch_size=64):
        per_layer[doc.text] = numpy.stack([component._pooled([doc]) for component in single], axis=1).astype("float16")
        doc._.trf_data = None
        cache[doc.text] = doc
    minutes = (time.perf_counter() - start) / 60
    sources = []
    for name, layers in layer_sets.items():
        layers = [layer % n_layers for layer in layers]
        statistics = TokenStatistics()
        for text in calibration:
            statistics.add(per_layer[text][:, layers].astype("float32").mean(1))
        fitted = statistics.finish()
        for mode in args.anisotropy.split(","):
            sources.append(ContextualSource(f"wv {name} {mode}", CachedPipeline(cache, per_layer, layers, fitted, mode)))
    return sources, minutes, fitted[2]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("encoder", type=Path, help="MLM encoder dir (Hugging Face format) or a pipeline with a transformer")
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--max-mb", type=float, default=None, help="Use only this many MB of text (smoke runs)")
    parser.add_argument("--out-dir", type=Path, default=Path("/tmp/wv_bench"))
    parser.add_argument("--n-words", type=int, default=DEFAULT_TOP_N)
    parser.add_argument("--contexts", type=int, default=20)
    parser.add_argument("--window", type=int, default=5, help="ours: words either side of a sampled occurrence")
    parser.add_argument("--layer-sets", default="top=-1;lower=0,1,2;all=0,1,2,3,4", help="name=layers;... pooled rows and wv_vectors variants")
    parser.add_argument("--default-layers", default="0,1,2", help="layers of the distillation row")
    parser.add_argument("--anisotropy", default="none,center,whiten", help="wv_vectors variants")
    parser.add_argument("--calibration-lines", type=int, default=2000, help="corpus lines (sampled) for the anisotropy statistics")
    parser.add_argument("--dim", type=int, default=300, help="gensim vector size")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--skip", default="", help="comma-separated: word2vec,fasttext,pool,distill,contextual")
    parser.add_argument("--reuse", action="store_true", help="read back the tokenised corpus and the baselines already in --out-dir")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    skip = {name.strip() for name in args.skip.split(",") if name.strip()}
    layer_sets = parse_layer_sets(args.layer_sets)

    corpus, tokenised = args.out_dir / "corpus.txt", args.out_dir / "corpus.tok.txt"
    tokenise_minutes = 0.0
    if not (args.reuse and tokenised.exists()):
        sample_corpus(args.data, args.max_mb, corpus)
        start = time.perf_counter()
        tokenise(corpus, tokenised)
        tokenise_minutes = (time.perf_counter() - start) / 60
    n_words = sum(len(line.split(" ")) for line in tokenised.open(encoding="utf8"))
    print(f"Corpus: {tokenised.stat().st_size / MB:.1f} MB tokenised, {n_words:,} words, tokenised in {tokenise_minutes:.1f} min (shared by all methods)")

    sources, minutes, info = [], {}, {}
    for method in ("word2vec", "fasttext"):
        saved, saved_minutes = args.out_dir / f"{method}.w2v.txt", args.out_dir / f"{method}.minutes.json"
        if method in skip:
            continue
        if args.reuse and saved.exists() and saved_minutes.exists():
            table, minutes[method] = read_word2vec(saved), json.loads(saved_minutes.read_text())["minutes"]
        else:
            start = time.perf_counter()
            table = gensim_vectors(method, tokenised, args)
            minutes[method] = (time.perf_counter() - start) / 60
            write_word2vec(saved, table.words, table.table)
            saved_minutes.write_text(json.dumps({"minutes": minutes[method]}))
        sources.append(StaticSource(method, table))
    if "pool" not in skip:
        pooled, info["pool"] = our_static_rows(tokenised, args, layer_sets)
        sources += pooled
        for source in pooled:
            minutes[source.name] = info["pool"]["per_layer_pass_minutes"]
    if "distill" not in skip:
        source, minutes["distill"], info["distill"] = our_distilled_row(tokenised, args, [int(x) for x in args.default_layers.split(",")])
        sources.append(source)
    wordsim, wic = args.data / "wordsim", args.data / "wic"
    if "contextual" not in skip:
        from spacy_wv.vectors.analogy import read_analogies
        from spacy_wv.vectors.in_context import read_context_pairs
        from spacy_wv.vectors.similarity import read_word_pairs

        texts = [c for path in (wic / "train.jsonl", wic / "dev.jsonl") for pair in read_context_pairs(path).contexts for c in pair]
        texts += [w for path in (wordsim / "ws353_all.tsv", wordsim / "simlex999.tsv") for pair in read_word_pairs(path).pairs for w in pair]
        texts += [w for q in read_analogies(args.data / "analogy" / "questions-words.txt") for w in q.words]
        lines = tokenised.read_text(encoding="utf8").split("\n")
        rng = numpy.random.default_rng(0)
        calibration = [lines[i] for i in rng.choice(len(lines), size=min(args.calibration_lines, len(lines)), replace=False) if lines[i].strip()]
        contextual, contextual_minutes, info["calibration_last_set"] = contextual_rows(args, layer_sets, texts, calibration)
        sources += contextual
        for source in contextual:
            minutes[source.name] = contextual_minutes
    results = evaluate_sources(
        sources, [wordsim / "ws353_all.tsv", wordsim / "simlex999.tsv"], args.data / "analogy" / "questions-words.txt", args.n_words,
        [wic / "dev.jsonl"], [wic / "train.jsonl"],
    )
    for name in results["vectors"]:
        results["vectors"][name]["minutes"] = minutes.get(name, float("nan"))
    results.update(corpus_words=n_words, encoder=str(args.encoder), info=info, args={k: str(v) for k, v in vars(args).items()})
    print_results(results)
    print("Minutes: " + ", ".join(f"{name} {value:.1f}" for name, value in minutes.items()) + f" (+ {tokenise_minutes:.1f} tokenising)")
    print("Pooled rows share one export pass over every layer; wv_vectors rows share one transformer pass (minutes are that pass's).")
    (args.out_dir / "results.json").write_text(json.dumps(json_ready(results), indent=2, default=str), encoding="utf8")
    plot_results(results, args.out_dir / "results.png")
    print(f"Wrote {args.out_dir / 'results.json'} and {args.out_dir / 'results.png'}")


if __name__ == "__main__":
    main()
