"""The `wv_vectors` component: contextual word vectors on Doc tokens.

Placed after a spacy-transformers `transformer` component, it pools each token's
wordpieces (read through `doc._.trf_data.align`) into one row of `doc.tensor`, and
installs hooks so that `token.vector`, `span.vector`, `doc.vector`, `has_vector`,
`vector_norm` and `.similarity` (cosine) use those rows.

Hooks are plain module-level functions reading `doc.tensor` lazily. spaCy does not
serialize hooks (warning W109), and without them `token.vector` falls back to the static
vectors table:
- `nlp.pipe(n_process>1)` sends docs back from its worker processes as bytes: the
  factory installs `HooksAfterProcesses` on the `nlp` object, which puts the hooks
  back on each returning doc (its `doc.tensor` came back with it);
- `Doc.to_bytes`/`from_bytes` keeps `doc.tensor`: `set_vector_hooks(doc)` restores
  the hooks;
- `DocBin` keeps neither `doc.tensor` nor (without `store_user_data=True`) the encoder's
  output: `nlp.get_pipe("wv_vectors").restore(nlp, docs)` gives both back, running the
  encoder components again where the output was not kept.
"""
import warnings
from itertools import chain, islice
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Sequence

import numpy
import srsly
from spacy.language import Language
from spacy.util import minibatch
from spacy.tokens import Doc
from thinc.api import Model
from thinc.util import to_numpy  # hidden states are cupy arrays on GPU

from ..errors import UserError
from ..hf_dirs import pipeline_hf_model
from ..pooling import check_pooling, mix_layers, pool_wordpieces

LAST_LAYER = -1
STATS_FILE = "anisotropy.msgpack"


ANISOTROPY_MODES = ("none", "center", "whiten")
CALIBRATION_DOCS = 1000
MIN_CALIBRATION_WORDS = 100


@Language.factory(
    "wv_vectors",
    default_config={"pooling": "mean", "layers": [LAST_LAYER], "normalize": False, "anisotropy": "none"},
)
def make_wv_vectors(nlp: Language, name: str, pooling: str, layers: List[int], normalize: bool, anisotropy: str = "none") -> "ContextualVectors":
    component = ContextualVectors(name, pooling=pooling, layers=layers, normalize=normalize, anisotropy=anisotropy)
    component.encoder_width = lambda: _encoder_width(nlp)
    if not isinstance(nlp.__dict__.get("_multiprocessing_pipe"), HooksAfterProcesses):
        nlp._multiprocessing_pipe = HooksAfterProcesses(nlp)
    return component


class HooksAfterProcesses:
    """`nlp._multiprocessing_pipe` (what `nlp.pipe(n_process>1)` calls) that puts the
    vector hooks back on the docs coming back from the worker processes as bytes, while
    a `wv_vectors` component is in the pipeline (their `doc.tensor` holds its vectors).

    The workers are forked with torch at one thread: a child forked from a parent whose
    OpenMP pool has run hangs at its first parallel region (the encoder's first matrix
    product), and n workers of one thread each is what n processes should use anyway."""

    def __init__(self, nlp: Language):
        self.nlp = nlp

    def __call__(self, *args, **kwargs) -> Iterator[Doc]:
        import torch

        active = any(self.nlp.get_pipe_meta(name).factory == "wv_vectors" for name in self.nlp.pipe_names)
        docs = type(self.nlp)._multiprocessing_pipe(self.nlp, *args, **kwargs)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            first = next(docs, None)  # the workers are forked before the first doc comes back
        finally:
            torch.set_num_threads(threads)
        if first is None:
            return
        for doc in chain([first], docs):
            if active and doc.tensor.shape[0] == len(doc):
                set_vector_hooks(doc)
            yield doc


def _encoder_width(nlp: Language) -> int:
    hf_model = pipeline_hf_model(nlp)
    if hf_model is not None:
        return int(hf_model.transformer.config.hidden_size)
    for _, component in nlp.pipeline:  # a stacked tok2vec's frozen encoder
        node = _encoder_features_node(component)
        if node is not None and node.shims[0].loaded:
            return node.shims[0].width
    return 0


def _encoder_features_node(component) -> Optional[Model]:
    """The frozen encoder (spacy_wv.EncoderFeatures.v1) inside a component's model, if any."""
    model = getattr(component, "model", None)
    nodes = model.walk() if isinstance(model, Model) else ()
    return next((node for node in nodes if node.name == "encoder_features"), None)


class ContextualVectors:
    """Set `doc.tensor` to pooled transformer vectors, one row per token, and the
    vector/similarity hooks that read it.

    pooling: how a token's wordpieces become one vector (see `spacy_wv.pooling.POOLING_MODES`).
    layers: hidden-state layers to average (0 = embeddings, -1 = last). Anything but
        [-1] needs the transformer's `transformer_config.output_hidden_states = true`.
    normalize: scale every token vector to unit L2 norm.
    anisotropy: "none"; "center" (subtract the mean token vector) or "whiten" (centre,
        then rotate and scale so that the token vectors have identity covariance,
        BERT-whitening, Su et al. 2021). Contextual vectors of a small encoder all point
        one way (cosines near 1 for unrelated words, Ethayarajh 2019); the statistics
        come from a corpus (`initialize` uses the training docs, `calibrate(nlp, texts)`
        any texts) and are saved with the component.
    """

    def __init__(self, name: str = "wv_vectors", *, pooling: str = "mean", layers: Sequence[int] = (LAST_LAYER,), normalize: bool = False, anisotropy: str = "none"):
        if not layers:
            raise UserError("wv_vectors: `layers` is empty; give at least one layer index, e.g. [-1].")
        if anisotropy not in ANISOTROPY_MODES:
            raise UserError(f"wv_vectors: unknown anisotropy {anisotropy!r}: choose one of {', '.join(ANISOTROPY_MODES)}.")
        self.name = name
        self.pooling = check_pooling(pooling)
        self.layers = [int(layer) for layer in layers]
        self.normalize = normalize
        self.anisotropy = anisotropy
        self.mean: Optional[numpy.ndarray] = None
        self.transform: Optional[numpy.ndarray] = None
        self.calibration: Dict = {}
        # The vector width when a batch has only empty docs (the factory asks the pipeline's encoder).
        self.encoder_width: Callable[[], int] = lambda: 0

    def initialize(self, get_examples: Callable, *, nlp: Optional[Language] = None, n_docs: int = CALIBRATION_DOCS) -> None:
        """Gather the anisotropy statistics from the training docs (when `anisotropy` is not "none")."""
        if self.anisotropy == "none" or nlp is None:
            return
        references = [eg.reference for eg in islice(get_examples(), n_docs)]
        texts = [doc.text for doc in references]
        # Tokens, not spaces: Chinese text has none. The floor skips e.g. spaCy's dummy "x y z" example.
        if sum(len(doc) for doc in references) < MIN_CALIBRATION_WORDS:
            warnings.warn(f"{self.name}: too few training words to gather anisotropy statistics; call calibrate(nlp, texts)")
            return
        self.calibrate(nlp, texts)

    def calibrate(self, nlp: Language, texts: Iterable[str], max_tokens: int = 50_000) -> Dict:
        """Mean and whitening transform of the token vectors of `texts`, run through the
        components before this one (so it works on a pipeline whose later components are
        not initialised). Replaces the stored statistics; returns a summary."""
        encoders = self._encoder_components(nlp)
        statistics = TokenStatistics()
        for batch in minibatch((nlp.make_doc(text) for text in texts if text.strip()), size=64):
            statistics.add(self._pooled(_run(encoders, batch)))
            if statistics.count >= max_tokens:
                break
        self.mean, self.transform, self.calibration = statistics.finish(self.name)
        return self.calibration

    def restore(self, nlp: Language, docs: Iterable[Doc], batch_size: int = 64) -> Iterator[Doc]:
        """The contextual vectors (`doc.tensor`) and their hooks back on docs that lost
        them, e.g. read back from a `DocBin`. Docs that kept the encoder's output
        (`DocBin(store_user_data=True)`) are pooled again; the others go through the
        encoder components (not `ner` or `textcat`: their annotations stay as they are)."""
        encoders = self._encoder_components(nlp)
        for batch in minibatch(docs, size=batch_size):
            _run(encoders, [doc for doc in batch if not _has_trf_data(doc) and _encoder_layers(doc) is None])
            self.set_annotations(batch)
            yield from batch

    def _encoder_components(self, nlp: Language) -> List:
        """The components before this one, up to the last that computes the encoder
        output it pools (a `transformer`, or a tok2vec with the frozen encoder)."""
        names = nlp.pipe_names
        if self.name not in names:
            raise UserError(f"{self.name} is not in the pipeline {names}")
        upstream = nlp.pipeline[: names.index(self.name)]
        encoders = [i for i, (name, component) in enumerate(upstream)
                    if nlp.get_pipe_meta(name).factory == "transformer" or _encoder_features_node(component) is not None]
        if not encoders:
            raise no_encoder_output(self.name)
        return [component for _, component in upstream[: encoders[-1] + 1]]

    def __call__(self, doc: Doc) -> Doc:
        self.set_annotations([doc])
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int = 128) -> Iterator[Doc]:
        for batch in minibatch(docs, size=batch_size):
            self.set_annotations(batch)
            yield from batch

    def set_annotations(self, docs: List[Doc]) -> None:
        """Set `doc.tensor` and the hooks of a batch of docs."""
        vectors = self._pooled(docs)
        if self.anisotropy != "none":
            vectors = self._isotropic(vectors)
        if self.normalize:
            norms = numpy.linalg.norm(vectors, axis=1, keepdims=True)
            numpy.divide(vectors, norms, out=vectors, where=norms > 0)
        for doc, tensor in zip(docs, numpy.split(vectors, numpy.cumsum([len(doc) for doc in docs])[:-1])):
            doc.tensor = tensor
            set_vector_hooks(doc)

    def _isotropic(self, vectors: numpy.ndarray) -> numpy.ndarray:
        if self.mean is None:
            raise UserError(f"{self.name}: anisotropy {self.anisotropy!r} needs corpus statistics: run nlp.initialize() or "
                            f"nlp.get_pipe({self.name!r}).calibrate(nlp, texts).")
        has_vector = vectors.any(axis=1)
        out = vectors - self.mean
        if self.anisotropy == "whiten":
            out = out @ self.transform
        out[~has_vector] = 0  # a token with no vector keeps none
        return out.astype("float32")

    def _pooled(self, docs: List[Doc]) -> numpy.ndarray:
        """Pooled token vectors of a batch of docs, one row per token. The pieces of all
        docs are pooled together, so that the numpy calls are per batch rather than per doc."""
        if docs and not any(_has_trf_data(doc) for doc in docs):
            if all(len(doc) == 0 for doc in docs):  # spaCy's tok2vec skips a batch of empty docs
                return numpy.zeros((0, self.encoder_width()), dtype="float32")
            return self._from_encoder_features(docs)
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
            width = self.encoder_width()
            vectors = numpy.zeros((all_lengths.size, width), dtype="float32")
        return vectors

    def to_bytes(self, *, exclude=tuple()) -> bytes:
        return srsly.msgpack_dumps(self._state())

    def from_bytes(self, data: bytes, *, exclude=tuple()) -> "ContextualVectors":
        self._set_state(srsly.msgpack_loads(data))
        return self

    def to_disk(self, path, *, exclude=tuple()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_msgpack(path / STATS_FILE, self._state())

    def from_disk(self, path, *, exclude=tuple()) -> "ContextualVectors":
        path = Path(path) / STATS_FILE
        if path.is_file():
            self._set_state(srsly.read_msgpack(path))
        return self

    def _state(self) -> Dict:
        return {"mean": None if self.mean is None else self.mean.tolist(), "transform": None if self.transform is None else self.transform.tolist(), "calibration": self.calibration}

    def _set_state(self, state: Dict) -> None:
        self.mean = None if state.get("mean") is None else numpy.asarray(state["mean"], dtype="float32")
        self.transform = None if state.get("transform") is None else numpy.asarray(state["transform"], dtype="float32")
        self.calibration = state.get("calibration") or {}

    def _from_encoder_features(self, docs: List[Doc]) -> numpy.ndarray:
        """In a stacked pipeline: the frozen encoder's per-token layer features that
        `spacy_wv.EncoderFeatures.v1` left on each doc (pieces already mean-pooled), averaged
        over `layers`, without running the encoder again."""
        rows = []
        for doc in filter(len, docs):  # an empty doc has no rows (nor, alone, any features)
            stored = _encoder_layers(doc)
            if stored is None:
                raise no_encoder_output(self.name)
            position = {layer: i for i, layer in enumerate(stored["layers"])}
            wanted = [layer % stored["n_hidden"] for layer in self.layers]
            missing = [layer for layer in wanted if layer not in position]
            if missing:
                raise UserError(f"{self.name}: layers {missing} are not among the encoder features' layers "
                                f"{stored['layers']}: set the features' `layers` to include them (or null for all).")
            rows.append(numpy.asarray(stored["features"][[position[layer] for layer in wanted]], dtype="float32").mean(axis=0))
        return numpy.concatenate(rows) if rows else numpy.zeros((0, self.encoder_width()), dtype="float32")

    def _trf_data(self, doc: Doc):
        trf_data = doc._.get("trf_data") if _has_trf_data(doc) else None
        if trf_data is None:
            raise no_encoder_output(self.name)
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


class TokenStatistics:
    """Streaming mean and covariance of token vectors (rows of zeros, tokens with no
    vector, are left out), and the centring/whitening transform they give."""

    def __init__(self):
        self.total = self.second = None
        self.count = 0

    def add(self, vectors: numpy.ndarray) -> None:
        vectors = vectors[vectors.any(axis=1)].astype("float64")
        if not vectors.size:
            return
        if self.total is None:
            self.total, self.second = numpy.zeros(vectors.shape[1]), numpy.zeros((vectors.shape[1], vectors.shape[1]))
        self.total += vectors.sum(0)
        self.second += vectors.T @ vectors
        self.count += vectors.shape[0]

    def finish(self, name: str = "wv_vectors"):
        """(mean, whitening transform, summary)."""
        if self.count < 2:
            raise UserError(f"{name}: no token vectors to calibrate on (give some non-empty texts)")
        mean = self.total / self.count
        covariance = self.second / self.count - numpy.outer(mean, mean)
        eigenvalues, eigenvectors = numpy.linalg.eigh(covariance)
        eigenvalues = numpy.maximum(eigenvalues, eigenvalues.max() * 1e-6)
        norm = float(numpy.linalg.norm(mean))
        summary = {"tokens": int(self.count), "mean_norm": norm,
                   # share of the average squared norm that is the common mean: near 1 = every vector points the same way
                   "mean_share": float(norm**2 / (numpy.trace(covariance) + norm**2))}
        return mean.astype("float32"), (eigenvectors / numpy.sqrt(eigenvalues)).astype("float32"), summary


def no_encoder_output(name: str) -> UserError:
    return UserError(f"{name} needs a `transformer` component or a stacked `tok2vec` (spacy_wv.EncoderFeatures.v1) "
                     f"before it in the pipeline; docs read back from a DocBin get their vectors back with "
                     f"nlp.get_pipe({name!r}).restore(nlp, docs)")


def _run(components: List, docs: List[Doc]) -> List[Doc]:
    for component in components:
        docs = list(component.pipe(docs)) if hasattr(component, "pipe") else [component(doc) for doc in docs]
    return docs


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
    """Cosine of the two vectors, in [-1, 1]; 0.0 when either has none."""
    a, b = numpy.asarray(obj.vector, dtype=numpy.float64), numpy.asarray(other.vector, dtype=numpy.float64)
    denominator = numpy.linalg.norm(a) * numpy.linalg.norm(b)
    if a.shape != b.shape or denominator == 0:
        return 0.0
    # float32 vectors that are nearly parallel can round to a cosine just above 1.
    return float(numpy.clip(numpy.dot(a, b) / denominator, -1.0, 1.0))


def _has_trf_data(doc: Doc) -> bool:
    return doc.has_extension("trf_data") and doc._.get("trf_data") is not None


def _encoder_layers(doc: Doc) -> Optional[Dict]:
    from ..layers.encoder_features import ENCODER_LAYERS_ATTR

    return doc._.get(ENCODER_LAYERS_ATTR) if doc.has_extension(ENCODER_LAYERS_ATTR) else None
