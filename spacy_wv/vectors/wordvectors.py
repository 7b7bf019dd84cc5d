"""An exported vectors directory, and vectors for every word from it.

`vectors export` writes a spaCy pipeline holding the table, `vectors.w2v.txt`,
`export.json` (settings, statistics, which words were pooled from contexts and which
composed) and `composer.npz` (the map from a word encoded alone to the pooled space,
and the post-processing). `WordVectors.load(dir)` looks words up like gensim's
`KeyedVectors` and never fails: a word outside the table is encoded alone by the
encoder named in `export.json` (or the one passed in) and mapped into the table's space.
"""
import json
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple

import numpy

from ..errors import UserError
from ..outputs import LegacyFiles
from .composer import Composer
from .export import ExportResult, ExportSettings
from .postprocess import postprocess_apply, postprocess_fit
from .tables import W2V_FILE, StaticVectors, spacy_table, write_spacy_vectors, write_word2vec
from .window_encoder import WindowEncoder

EXPORT_JSON = "export.json"
COMPOSER_FILE = "composer.npz"
# An export written before output markers: the spaCy pipeline `write_spacy_vectors`
# saves, the word2vec table and export.json (composer.npz came later).
LEGACY_EXPORT_FILES = LegacyFiles({EXPORT_JSON, W2V_FILE, "config.cfg", "meta.json", "tokenizer", "vocab"}, {COMPOSER_FILE})


def write_export(output_dir: Path, result: ExportResult, center: bool, remove_pcs: int, info: Dict, settings: ExportSettings) -> None:
    output_dir = Path(output_dir)
    mean, components = postprocess_fit(result.table, center, remove_pcs)
    table = postprocess_apply(result.table, mean, components)
    write_spacy_vectors(output_dir, result.words, table, lowercase=settings.lowercase)
    write_word2vec(output_dir / W2V_FILE, result.words, table)
    composer = result.composer
    numpy.savez(output_dir / COMPOSER_FILE, weights=composer.weights, bias=composer.bias, mean=mean, components=components)
    composed = [word for word, pooled in zip(result.words, result.pooled.tolist()) if not pooled]
    report = {**info, "settings": vars(settings), "center": center, "remove_pcs": remove_pcs, "stats": result.stats,
              "pooled_words": int(result.pooled.sum()), "composed_words": composed,
              "composition": "a word outside the table (and a table word with no context) is encoded alone, from its pieces, "
                             "and mapped into the pooled space by a ridge regression fitted on the pooled words (composer.npz)"}
    (output_dir / EXPORT_JSON).write_text(json.dumps(report, indent=2), encoding="utf8")


class WordVectors:
    """Static vectors for every word: table rows, else composed through the encoder."""

    def __init__(self, table: StaticVectors, composer: Optional[Composer], mean: numpy.ndarray, components: numpy.ndarray, lowercase: bool, composed: Sequence[str] = ()):
        self.table, self.composer, self.mean, self.components, self.lowercase = table, composer, mean, components, lowercase
        self.composed_in_table = set(composed)
        self._cache: Dict[str, numpy.ndarray] = {}

    @classmethod
    def load(cls, path: Path, encoder: Optional[Path] = None) -> "WordVectors":
        """Load an export directory; `encoder` overrides the encoder path recorded in it."""
        import spacy

        path = Path(path)
        report_path = path / EXPORT_JSON
        if not report_path.is_file():
            raise UserError(f"Not a `vectors export` directory (no {EXPORT_JSON}): {path}")
        report = json.loads(report_path.read_text(encoding="utf8"))
        table = spacy_table(spacy.load(path).vocab)
        composer = mean = components = None
        if (path / COMPOSER_FILE).is_file():
            stored = numpy.load(path / COMPOSER_FILE)
            mean, components = stored["mean"], stored["components"]
            encoder_path = Path(encoder or report.get("encoder", ""))
            if encoder_path.exists():
                from ..hf_dirs import load_encoder

                model, tokenizer = load_encoder(encoder_path)
                settings = report["settings"]
                composer = Composer(WindowEncoder(model, tokenizer, settings["layers"], settings["pooling"]), stored["weights"], stored["bias"])
        return cls(table, composer, mean, components, bool(report["settings"].get("lowercase")), report.get("composed_words", ()))

    @property
    def oov_policy(self) -> str:
        return "words outside the table composed from their pieces by the encoder" if self.composer is not None else ""

    def key(self, word: str) -> str:
        return word.lower() if self.lowercase else word

    def __contains__(self, word: str) -> bool:
        """True for every word when the encoder is at hand (a word outside the table is composed)."""
        return self.composer is not None or self.table.row(self.key(word)) is not None

    def origin(self, word: str) -> str:
        """"pooled" (from contexts), "composed" (a table word that got no context) or "oov" (composed on demand)."""
        key = self.key(word)
        if self.table.row(key) is None:
            return "oov"
        return "composed" if key in self.composed_in_table else "pooled"

    def __getitem__(self, word: str) -> numpy.ndarray:
        return self.lookup([word])[0][0]

    def lookup(self, words: Sequence[str]) -> Tuple[numpy.ndarray, numpy.ndarray]:
        """Vectors and a found mask, as `StaticVectors.lookup`; all found when the encoder is at hand."""
        keys = [self.key(word) for word in words]
        vectors, found = self.table.lookup(keys)
        missing = [i for i, ok in enumerate(found) if not ok]
        if missing and self.composer is not None:
            todo = list(dict.fromkeys(keys[i] for i in missing if keys[i] not in self._cache))
            if todo:
                composed = postprocess_apply(self.composer.compose(todo), self.mean, self.components)
                self._cache.update(zip(todo, composed))
            for i in missing:
                vectors[i], found[i] = self._cache[keys[i]], True
        return vectors, found
