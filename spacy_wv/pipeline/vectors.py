"""The `wv_vectors` component: contextual word vectors on Doc tokens.

Placed after a spacy-transformers `transformer` component, it pools each token's
wordpieces (read through `doc._.trf_data.align`) into one row of `doc.tensor`, and
installs hooks so that `token.vector`, `span.vector`, `doc.vector`, `has_vector`,
`vector_norm` and `.similarity` (cosine) use those rows.

Hooks are plain module-level functions reading `doc.tensor` lazily. spaCy does not
serialize hooks (warning W109), so after a round trip:
- `Doc.to_bytes`/`from_bytes` (also what `nlp.pipe(n_process>1)` uses) keeps
  `doc.tensor`: call `set_vector_hooks(doc)` to get the hooks back;
- `DocBin` drops `doc.tensor`; with `store_user_data=True` it keeps `doc._.trf_data`,
  so running the component again (`nlp.get_pipe("wv_vectors")(doc)`) restores both.
"""
from typing import Iterable, Iterator, List, Sequence

import numpy
from spacy.language import Language
from spacy.util import minibatch
from spacy.tokens import Doc
from thinc.util import to_numpy  # hidden states are cupy arrays on GPU

from ..errors import UserError
from .pooling import check_pooling, mix_layers, pool_wordpieces

LAST_LAYER = -1


@Language.factory(
    "wv_vectors",
    default_config={"pooling": "mean", "layers": [LAST_LAYER], "normalize": False},
)
def make_wv_vectors(nlp: Language, name: str, pooling: str, layers: List[int], normalize: bool) -> "ContextualVectors":
    component = ContextualVectors(name, pooling=pooling, layers=layers, normalize=normalize)
    component.encoder_width = lambda: _encoder_width(nlp)  # the vector width when a batch has only empty docs
    return component


def _encoder_width(nlp: Language) -> int:
    from ..vectors.encoder import pipeline_hf_model

    hf_model = pipeline_hf_model(nlp)
    return int(hf_model.transformer.config.hidden_size) if hf_model is not None else 0


class ContextualVectors:
    """Set `doc.tensor` to pooled transformer vectors, one row per token, and the
    vector/similarity hooks that read it.

    pooling: how a token's wordpieces become one vector (see `pooling.POOLING_MODES`).
    layers: hidden-state layers to average (0 = embeddings, -1 = last). Anything but
        [-1] needs the transformer's `transformer_config.output_hidden_states = true`.
    normalize: scale every token vector to unit L2 norm.
    """

    def __init__(self, name: str = "wv_vectors", *, pooling: str = "mean", layers: Sequence[int] = (LAST_LAYER,), normalize: bool = False):
        if not layers:
            raise UserError("wv_vectors: `layers` is empty; give at least one layer index, e.g. [-1].")
        self.name = name
        self.pooling = check_pooling(pooling)
        self.layers = [int(layer) for layer in layers]
        self.normalize = normalize

    def __call__(self, doc: Doc) -> Doc:
        self.set_annotations([doc])
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int = 128) -> Iterator[Doc]:
        for batch in minibatch(docs, size=batch_size):
            self.set_annotations(batch)
            yield from batch

    def set_annotations(self, docs: List[Doc]) -> None:
        """Set `doc.tensor` and the hooks of a batch of docs. The pieces of all docs are
        pooled together, so that the numpy calls are per batch rather than per doc."""
        pieces, lengths, windows = [], [], []
        width = window_offset = 0
        for doc in docs:
            trf_data = self._trf_data(doc)
            doc_lengths = numpy.asarray(trf_data.align.lengths, dtype="int64")
            lengths.append(doc_lengths)
            if "last_hidden_state" not in trf_data.model_output:  # an empty doc
                continue
            layers = self._layers(trf_data)
            n_windows, window_size, width = layers[0].shape
            rows = numpy.asarray(trf_data.align.dataXd, dtype="int64").ravel()
            pieces.append(mix_layers([layer.reshape(-1, width) for layer in layers], rows))
            windows.append(rows // window_size + window_offset)
            window_offset += n_windows
        all_lengths = numpy.concatenate(lengths) if lengths else numpy.zeros(0, dtype="int64")
        if pieces:
            vectors = pool_wordpieces(numpy.concatenate(pieces), all_lengths, self.pooling, windows=numpy.concatenate(windows))
        else:
            width = getattr(self, "encoder_width", lambda: 0)()
            vectors = numpy.zeros((all_lengths.size, width), dtype="float32")
        if self.normalize:
            norms = numpy.linalg.norm(vectors, axis=1, keepdims=True)
            numpy.divide(vectors, norms, out=vectors, where=norms > 0)
        for doc, tensor in zip(docs, numpy.split(vectors, numpy.cumsum([len(doc) for doc in docs])[:-1])):
            doc.tensor = tensor
            set_vector_hooks(doc)

    def _trf_data(self, doc: Doc):
        trf_data = doc._.get("trf_data") if doc.has_extension("trf_data") else None
        if trf_data is None:
            raise UserError(f"{self.name} needs a `transformer` component before it in the pipeline (no doc._.trf_data).")
        if len(trf_data.align.lengths) != len(doc):
            raise ValueError(f"doc._.trf_data aligns {len(trf_data.align.lengths)} tokens, the doc has {len(doc)}")
        return trf_data

    def _layers(self, trf_data) -> List[numpy.ndarray]:
        output = trf_data.model_output
        if self.layers == [LAST_LAYER]:
            return [to_numpy(output["last_hidden_state"])]
        hidden_states = output.get("hidden_states")
        if hidden_states is None:
            raise UserError(
                f"{self.name}: layers {self.layers} need the transformer's hidden states; set "
                "[components.transformer.model.transformer_config] output_hidden_states = true."
            )
        n_layers = len(hidden_states)
        for layer in self.layers:
            if not -n_layers <= layer < n_layers:
                raise UserError(f"{self.name}: layer {layer} does not exist; the encoder has layers 0..{n_layers - 1} (0 = embeddings).")
        return [to_numpy(hidden_states[layer]) for layer in self.layers]


def set_vector_hooks(doc: Doc) -> None:
    """Make a Doc's vectors and similarities read the rows of `doc.tensor`."""
    doc.user_hooks.update({"vector": _span_vector, "has_vector": _span_has_vector, "vector_norm": _norm, "similarity": cosine_similarity})
    doc.user_span_hooks.update({"vector": _span_vector, "has_vector": _span_has_vector, "vector_norm": _norm, "similarity": cosine_similarity})
    doc.user_token_hooks.update({"vector": _token_vector, "has_vector": _token_has_vector, "vector_norm": _norm, "similarity": cosine_similarity})


def _token_vector(token) -> numpy.ndarray:
    return token.doc.tensor[token.i]


def _token_has_vector(token) -> bool:
    return bool(token.doc.tensor[token.i].any())


def _span_vector(span) -> numpy.ndarray:
    """Mean of the vectors of the tokens that have one (whitespace tokens have none)."""
    doc = span if isinstance(span, Doc) else span.doc
    start, end = (0, len(doc)) if span is doc else (span.start, span.end)
    rows = doc.tensor[start:end]
    with_vector = rows.any(axis=1)
    if not with_vector.any():
        return numpy.zeros((doc.tensor.shape[1] if doc.tensor.ndim == 2 else 0,), dtype="float32")
    return rows[with_vector].mean(axis=0)


def _span_has_vector(span) -> bool:
    doc = span if isinstance(span, Doc) else span.doc
    start, end = (0, len(doc)) if span is doc else (span.start, span.end)
    return bool(doc.tensor[start:end].any())


def _norm(obj) -> float:
    return float(numpy.linalg.norm(obj.vector))


def cosine_similarity(obj, other) -> float:
    """Cosine of the two vectors; 0.0 when either has none."""
    a, b = obj.vector, other.vector
    denominator = numpy.linalg.norm(a) * numpy.linalg.norm(b)
    if a.shape != b.shape or denominator == 0:
        return 0.0
    return float(numpy.dot(a, b) / denominator)
