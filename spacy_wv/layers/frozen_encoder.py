"""A frozen Hugging Face encoder that turns spaCy docs into per-token features of
every hidden layer, with a bounded cache so that a training run encodes each
document once.

The encoder travels inside the pipeline: the shim serializes the model directory's
files (safetensors weights, JSON configs, tokenizer files) as msgpack, so a packaged
pipeline needs neither the original directory nor any unpickling.
"""
import hashlib
from collections import OrderedDict
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy
import srsly
from spacy.tokens import Doc
from thinc.shims import Shim

from ..errors import UserError
from ..hf_dirs import fingerprint_files, load_model_dir, load_model_files, max_sequence_length, model_files
from .encoder_inference import keep_layers, quantize_int8


def _frozen(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    for param in model.parameters():
        param.requires_grad_(False)
    return model, tokenizer


class FeatureCache:
    """Least-recently-used map from a document key to its float16 features, bounded in bytes."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.n_bytes = 0
        self.hits = 0
        self.misses = 0
        self._items: "OrderedDict[str, numpy.ndarray]" = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str) -> Optional[numpy.ndarray]:
        value = self._items.get(key)
        if value is None:
            self.misses += 1
            return None
        self.hits += 1
        self._items.move_to_end(key)
        return value

    def put(self, key: str, value: numpy.ndarray) -> None:
        if value.nbytes > self.max_bytes or key in self._items:
            return
        self._items[key] = value
        self.n_bytes += value.nbytes
        while self.n_bytes > self.max_bytes:
            _, evicted = self._items.popitem(last=False)
            self.n_bytes -= evicted.nbytes

    def clear(self) -> None:
        self._items.clear()
        self.n_bytes = 0


def doc_key(doc: Doc) -> str:
    """The text and where its tokens start: the same text tokenized otherwise is another entry."""
    digest = hashlib.blake2b(doc.text.encode("utf8"), digest_size=16)
    digest.update(numpy.asarray([t.idx for t in doc], dtype="int64").tobytes())
    return digest.hexdigest()


class FrozenEncoderShim(Shim):
    """Holds the encoder (no gradients, eval mode) and the feature cache.

    `cfg`: `layers` (indices into the hidden states, embeddings = 0; made non-negative
    once the encoder is loaded), `max_pieces`
    (window length including the start token), `batch_pieces` (padded pieces per
    forward pass), `cache_mb` and `quantize` (null or "int8").

    Loading keeps the model directory's files (fp32 safetensors) for serialization, and
    runs a model cut to the highest layer used and, with `quantize`, quantized.
    """

    def __init__(self, cfg: dict):
        super().__init__(None, config=cfg)
        self.tokenizer = None
        self.fingerprint = ""
        self.files: Dict[str, bytes] = {}  # the model directory, as saved with the pipeline
        self._n_hidden_states = 0
        self.cache = FeatureCache(int(cfg["cache_mb"] * 2**20))
        # Only a run that built the model from a directory (training) caches; a pipeline
        # loaded from disk runs the encoder on every call.
        self.caching = cfg["cache_mb"] > 0

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def n_hidden_states(self) -> int:
        """Of the encoder as saved (embeddings + every layer), whatever runs."""
        return self._n_hidden_states

    @property
    def width(self) -> int:
        return self._model.config.hidden_size

    def load(self, path: Path) -> None:
        path = Path(path)
        model, tokenizer = _frozen(load_model_dir(path))
        self.files = model_files(path)
        self._set_model(model, tokenizer, path)
        self.fingerprint = fingerprint_files(self.files)

    def _set_model(self, model, tokenizer, source) -> None:
        self._model, self.tokenizer = model, tokenizer
        self._n_hidden_states = model.config.num_hidden_layers + 1
        self._check_layers()
        self._check_max_pieces(source)
        keep_layers(self._model, max(self.cfg["layers"]))
        if self.cfg.get("quantize") == "int8":
            self._model = quantize_int8(self._model)

    def _check_layers(self) -> None:
        n = self.n_hidden_states
        if self.cfg["layers"] is None:
            self.cfg["layers"] = tuple(range(n))
        bad = [i for i in self.cfg["layers"] if not -n <= i < n]
        if bad:
            raise UserError(f"Encoder layers {bad} out of range: the encoder has {n} hidden states "
                            f"(embeddings and {n - 1} layers), so use indices in [{-n}, {n - 1}]")
        self.cfg["layers"] = tuple(i % n for i in self.cfg["layers"])

    def _check_max_pieces(self, source) -> None:
        """A window longer than the encoder's positions would fail deep inside transformers."""
        try:
            limit = max_sequence_length(self._model.config)
        except AttributeError:  # a family without a fixed number of positions
            return
        if self.cfg["max_pieces"] > limit:
            raise UserError(f"EncoderFeatures max_pieces ({self.cfg['max_pieces']}) is more than the {limit} positions of "
                            f"the encoder {source}: set max_pieces to at most {limit} "
                            f"(e.g. --components.tok2vec.model.features.max_pieces {limit})")

    # ------------------------------------------------------------------ features
    def features(self, docs: Sequence[Doc]) -> List[numpy.ndarray]:
        """Per doc, an array (n_layers, n_tokens, width) in float16."""
        results: List[Optional[numpy.ndarray]] = [None] * len(docs)
        todo: List[int] = []
        keys: Dict[int, str] = {}
        for i, doc in enumerate(docs):
            if len(doc) == 0:
                results[i] = numpy.zeros((len(self.cfg["layers"]), 0, self.width), dtype="float16")
                continue
            if self.caching:
                keys[i] = self.fingerprint + doc_key(doc)
                results[i] = self.cache.get(keys[i])
            if results[i] is None:
                todo.append(i)
        if todo:
            for i, feats in zip(todo, self._encode([docs[i] for i in todo])):
                results[i] = feats
                if self.caching:
                    self.cache.put(keys[i], feats)
        return results  # type: ignore[return-value]

    def _encode(self, docs: Sequence[Doc]) -> List[numpy.ndarray]:
        import torch

        word_lists = [[t.text for t in doc] for doc in docs]
        encoded = self.tokenizer(word_lists, is_split_into_words=True, add_special_tokens=False,
                                 return_attention_mask=False, return_token_type_ids=False, verbose=False)
        windows = []  # (doc index, piece ids, word index of each piece)
        for d, words in enumerate(word_lists):
            ids = encoded["input_ids"][d]
            word_ids = encoded.word_ids(d)
            windows.extend((d, piece_ids, piece_words) for piece_ids, piece_words in
                           _windows(ids, word_ids, self.cfg["max_pieces"] - 1))
        layers = self.cfg["layers"]
        # Every doc's tokens in one array: each batch's pieces are pooled into their
        # tokens with one reduceat, and the docs are cut apart at the end (per-window and
        # per-doc numpy calls were a tenth of a short doc's time).
        offsets = numpy.cumsum([0] + [len(words) for words in word_lists])
        sums = numpy.zeros((len(layers), offsets[-1], self.width), dtype="float32")
        counts = numpy.zeros(offsets[-1], dtype="float32")
        start_id, pad_id = self._start_token_id(), self.tokenizer.pad_token_id or 0
        # Similar lengths together, so that little of each forward pass is padding.
        order = sorted(range(len(windows)), key=lambda w: len(windows[w][1]))
        with torch.no_grad():
            for batch in _batches(order, [len(w[1]) + 1 for w in windows], self.cfg["batch_pieces"]):
                sizes = numpy.array([len(windows[w][1]) for w in batch])
                input_ids = numpy.full((len(batch), sizes.max() + 1), pad_id, dtype="int64")
                input_ids[:, 0] = start_id
                for row, w in enumerate(batch):
                    input_ids[row, 1:sizes[row] + 1] = windows[w][1]
                mask = (numpy.arange(input_ids.shape[1])[None, :] <= sizes[:, None]).astype("int64")
                output = self._model(input_ids=torch.from_numpy(input_ids), attention_mask=torch.from_numpy(mask),
                                     output_hidden_states=True)
                hidden = torch.stack([output.hidden_states[i] for i in layers]).float().numpy()
                rows = numpy.repeat(numpy.arange(len(batch)), sizes)
                positions = numpy.arange(sizes.sum()) - numpy.repeat(numpy.cumsum(sizes) - sizes, sizes) + 1
                tokens = numpy.concatenate([windows[w][2] + offsets[windows[w][0]] for w in batch])
                # A token's pieces are contiguous and lie in one window.
                starts = numpy.flatnonzero(numpy.r_[True, tokens[1:] != tokens[:-1]])
                sums[:, tokens[starts]] = numpy.add.reduceat(hidden[:, rows, positions], starts, axis=1)
                counts[tokens[starts]] = numpy.diff(numpy.r_[starts, len(tokens)])
        features = _standardize(sums / numpy.maximum(counts, 1.0)[None, :, None], counts > 0).astype("float16")
        return [numpy.ascontiguousarray(features[:, offsets[d]:offsets[d + 1]]) for d in range(len(docs))]

    def _start_token_id(self) -> int:
        for token_id in (self.tokenizer.cls_token_id, self.tokenizer.bos_token_id, self.tokenizer.pad_token_id):
            if token_id is not None:
                return token_id
        return 0

    # ------------------------------------------------------------- thinc's shim API
    def finish_update(self, optimizer) -> None:
        """Frozen: nothing to update."""

    def to_device(self, device_type: str, device_id: int) -> None:
        if device_type != "cpu" and self.cfg.get("quantize"):
            raise UserError("EncoderFeatures quantize = \"int8\" runs on CPU only; set it to null to use a GPU.")
        if self._model is not None:
            self._model.to("cpu" if device_type == "cpu" else f"cuda:{device_id}")

    def copy(self) -> "FrozenEncoderShim":
        copied = FrozenEncoderShim(self.cfg)
        copied._model, copied.tokenizer, copied.fingerprint = self._model, self.tokenizer, self.fingerprint
        copied.files, copied._n_hidden_states = self.files, self._n_hidden_states
        return copied

    def to_bytes(self) -> bytes:
        return srsly.msgpack_dumps({"files": self.files, "fingerprint": self.fingerprint} if self.files else {"files": {}})

    def from_bytes(self, data: bytes) -> "FrozenEncoderShim":
        msg = srsly.msgpack_loads(data)
        if not msg["files"]:
            return self
        model, tokenizer = _frozen(load_model_files(msg["files"]))
        self.files = dict(msg["files"])
        self._set_model(model, tokenizer, "saved in the pipeline")
        self.fingerprint = msg["fingerprint"]
        self.caching = False
        self.cache.clear()
        return self


def _windows(ids: List[int], word_ids: List[Optional[int]], max_len: int):
    """Cut a doc's pieces into windows of at most `max_len` that never split a token.
    A single token longer than a window keeps only its first `max_len` pieces."""
    spans: List[List[int]] = []  # [start, end) of each token's pieces
    for p, w in enumerate(word_ids):
        if spans and word_ids[spans[-1][0]] == w:
            spans[-1][1] = p + 1
        else:
            spans.append([p, p + 1])
    window_start: Optional[int] = None
    for start, end in spans:
        if window_start is None:
            window_start = start
        if end - window_start <= max_len:
            continue
        if start > window_start:
            yield _window(ids, word_ids, window_start, start)
            window_start = start
        if end - start > max_len:
            yield _window(ids, word_ids, start, start + max_len)
            window_start = None
    if window_start is not None:
        yield _window(ids, word_ids, window_start, spans[-1][1])


def _window(ids: List[int], word_ids: List[Optional[int]], start: int, end: int):
    return ids[start:end], numpy.asarray(word_ids[start:end], dtype="int64")


# A batch is padded to its longest window: windows (sorted by length) start a new batch
# once they are this much longer than the batch's first, so that short docs of mixed
# lengths (a sentence a doc) are not mostly padding.
MAX_PADDING_RATIO = 1.25


def _batches(order: List[int], lengths: List[int], max_pieces: int):
    batch: List[int] = []
    longest = 0
    for w in order:
        longest_if_added = max(longest, lengths[w])
        too_uneven = batch and longest_if_added > MAX_PADDING_RATIO * lengths[batch[0]] + 4
        if batch and (longest_if_added * (len(batch) + 1) > max_pieces or too_uneven):
            yield batch
            batch, longest_if_added = [], lengths[w]
        batch.append(w)
        longest = longest_if_added
    if batch:
        yield batch


def _standardize(features: numpy.ndarray, has_pieces: numpy.ndarray) -> numpy.ndarray:
    """Zero mean, unit variance over the width, per layer and token, so that layers whose
    residual streams differ in scale mix evenly. Tokens without pieces stay zero."""
    mean = features.mean(axis=-1, keepdims=True)
    std = features.std(axis=-1, keepdims=True) + 1e-5
    out = (features - mean) / std
    out[:, ~has_pieces] = 0.0
    return out


def check_layers_arg(layers: Sequence[int]) -> Tuple[int, ...]:
    if not layers:
        raise UserError("EncoderFeatures needs at least one layer index (e.g. [-1] or [1, 2, 3, 4])")
    return tuple(int(i) for i in layers)
