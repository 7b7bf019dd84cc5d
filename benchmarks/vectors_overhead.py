"""How much the `wv_vectors` component adds to the pipeline it joins.

    python benchmarks/vectors_overhead.py ENCODER_DIR [--data ../shared/data] [--sentences 3000]

Runs `nlp.pipe` over CoNLL-2003 dev sentences through `transformer` (with
`wv_vectors` disabled), then runs `wv_vectors` alone over the resulting Docs; repeats
both and keeps the best time of each. Timing the component on its own output keeps the
comparison fair on a busy machine, where two end-to-end runs differ by more than the
component costs. Prints words per second with and without it, and the overhead.
"""
import argparse
import itertools
import time
from pathlib import Path

import spacy

import spacy_wv  # noqa: F401 (offline settings)
from spacy_wv.corpus.conll import sentence_texts


def build(encoder: Path, pooling: str, layers):
    nlp = spacy.blank("en")
    nlp.add_pipe("transformer", config={"model": {
        "@architectures": "spacy-transformers.TransformerModel.v3", "name": str(encoder),
        "tokenizer_config": {"use_fast": True}, "transformer_config": {"output_hidden_states": layers != [-1]},
        "get_spans": {"@span_getters": "spacy-transformers.strided_spans.v1", "window": 128, "stride": 96}}})
    nlp.add_pipe("wv_vectors", config={"pooling": pooling, "layers": layers})
    nlp.initialize()
    return nlp


def best_times(nlp, texts, batch_size, repeats):
    """Best seconds for the transformer part and for `wv_vectors` over its output."""
    component = nlp.get_pipe("wv_vectors")
    best_transformer = best_vectors = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        with nlp.select_pipes(disable=["wv_vectors"]):
            docs = list(nlp.pipe(texts, batch_size=batch_size))
        middle = time.perf_counter()
        for _ in component.pipe(docs):
            pass
        end = time.perf_counter()
        best_transformer, best_vectors = min(best_transformer, middle - start), min(best_vectors, end - middle)
    return best_transformer, best_vectors


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("encoder", type=Path)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--sentences", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pooling", default="mean")
    parser.add_argument("--layers", default="-1", help="comma-separated layers for wv_vectors")
    args = parser.parse_args()
    layers = [int(x) for x in args.layers.split(",")]
    texts = list(itertools.islice(sentence_texts(args.data / "conll2003" / "eng.testa"), args.sentences))
    n_words = sum(len(text.split()) for text in texts)
    nlp = build(args.encoder, args.pooling, layers)
    list(nlp.pipe(texts[:200], batch_size=args.batch_size))  # warm-up
    transformer_seconds, vectors_seconds = best_times(nlp, texts, args.batch_size, args.repeats)
    print(f"{len(texts)} CoNLL dev sentences, {n_words} words, batch size {args.batch_size}, best of {args.repeats}")
    print(f"{'transformer':28s} {n_words / transformer_seconds:10,.0f} words/s")
    print(f"{'transformer + wv_vectors':28s} {n_words / (transformer_seconds + vectors_seconds):10,.0f} words/s")
    print(f"{'wv_vectors alone':28s} {n_words / vectors_seconds:10,.0f} words/s")
    print(f"overhead of wv_vectors: {100 * vectors_seconds / transformer_seconds:.1f}% more time")

if __name__ == "__main__":
    main()
