"""Joint word vectors: the encoder's pooled vectors and fastText's subword vectors, side by side.

The two know different things: the encoder's vectors relate words by the contexts they
share (WordSim-353 rewards that), fastText's character n-grams carry morphology (most
analogy questions and many SimLex-999 pairs turn on it). Each part is post-processed on
its own (all-but-the-top: its mean and top principal components removed), scaled to unit
length and then by the square root of its weight, so the joint cosine of two words is the
weighted mean of the parts' cosines.

The weight and the components each part drops are chosen on dev word-similarity sets
and saved with the table, so a reload gives the same vectors. By default the choice
maximises the smallest gain over the fastText table alone across those sets: a weight
that buys WordSim-353 with SimLex-999 (the encoder is strong on relatedness and weak on
similarity) is not taken. Every word gets a vector: a word outside the table gets its
fastText part from its n-grams and its encoder part composed from its pieces (through
the encoder export it came from, when that and its encoder are at hand).
"""
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy
from wasabi import msg

from ..errors import UserError
from .postprocess import postprocess_apply, postprocess_fit
from .similarity import WordPairs, spearman
from .subwords import SubwordVectors
from .tables import W2V_FILE, StaticVectors, spacy_table, write_spacy_vectors, write_word2vec

JOINT_JSON = "joint.json"
JOINT_ARRAYS = "joint.npz"
PARTS = ("encoder", "fasttext")
WEIGHT_GRID = tuple(round(0.05 * i, 2) for i in range(21))
PCS_GRID = (0, 1, 2, 3, 5, 8, 12, 16)
# "worst_gain": the grid point whose smallest gain over the fastText table alone, across
# the fit sets, is largest (no set is traded for another); "mean": the best mean rho.
OBJECTIVES = ("worst_gain", "mean")


@dataclass
class JointSettings:
    """None: chosen on the fit sets."""

    encoder_weight: Optional[float] = None
    encoder_pcs: Optional[int] = None
    fasttext_pcs: Optional[int] = None
    max_words: Optional[int] = None
    objective: str = "worst_gain"

    def check(self) -> "JointSettings":
        if self.objective not in OBJECTIVES:
            raise UserError(f"--objective must be one of {', '.join(OBJECTIVES)}, got {self.objective!r}")
        if self.encoder_weight is not None and not 0.0 <= self.encoder_weight <= 1.0:
            raise UserError(f"--encoder-weight must be between 0 and 1, got {self.encoder_weight}")
        for name in ("encoder_pcs", "fasttext_pcs"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise UserError(f"--{name.replace('_', '-')} must be >= 0, got {value}")
        if self.max_words is not None and self.max_words < 1:
            raise UserError(f"--max-words must be positive, got {self.max_words}")
        return self


@dataclass
class PartTransform:
    """All-but-the-top for one part, then unit length times sqrt(weight)."""

    weight: float
    mean: numpy.ndarray
    components: numpy.ndarray

    def apply(self, table: numpy.ndarray) -> numpy.ndarray:
        return unit_rows(postprocess_apply(table, self.mean, self.components)) * numpy.float32(numpy.sqrt(self.weight))


@dataclass
class JointResult:
    words: List[str]
    table: numpy.ndarray
    transforms: Dict[str, PartTransform]
    lowercase: bool
    fit: Dict = field(default_factory=dict)


def unit_rows(table: numpy.ndarray) -> numpy.ndarray:
    norms = numpy.linalg.norm(table, axis=1, keepdims=True)
    return numpy.divide(table, norms, out=numpy.zeros_like(table, dtype="float32"), where=norms > 0).astype("float32")


def joint_vocabulary(encoder_words: Sequence[str], fasttext_words: Sequence[str], lowercase: bool, max_words: Optional[int]) -> List[str]:
    """The encoder table's words (the most frequent), then fastText's words it lacks, in
    fastText's frequency order; keys lower-cased when the encoder table's are."""
    words = dict.fromkeys(encoder_words)
    for word in fasttext_words:
        words.setdefault(word.lower() if lowercase else word)
    return list(words)[:max_words]


def fasttext_part(words: Sequence[str], fasttext: StaticVectors, subwords: SubwordVectors) -> numpy.ndarray:
    """fastText's vector of each word: its table row (exact spelling, else the most
    frequent case variant), else the mean of its n-grams."""
    vectors, found = fasttext.lookup(words)
    missing = numpy.flatnonzero(~found)
    if missing.size:
        vectors[missing] = subwords.vectors([words[i] for i in missing])
    return vectors


def fit_transforms(parts: Dict[str, numpy.ndarray], rows: Dict[str, int], fit_sets: Sequence[WordPairs], settings: JointSettings) -> Tuple[Dict[str, PartTransform], Dict]:
    """The weight and components per part that do best by `settings.objective` on the fit
    sets' pairs whose words are both in the table (a grid over WEIGHT_GRID and PCS_GRID;
    a setting given in `settings` is held fixed). Gains are over the fastText part as
    given (no component removed), which the grid holds at weight 0."""
    pairs = []
    for word_pairs in fit_sets:
        index = [(rows[a], rows[b], score) for (a, b), score in zip(word_pairs.pairs, word_pairs.scores) if a in rows and b in rows]
        if len(index) < 10:
            raise UserError(f"{word_pairs.name}: only {len(index)} of its {len(word_pairs.pairs)} pairs are in the table; "
                            "a weight cannot be fitted on so few")
        pairs.append((word_pairs.name, numpy.array(index)))
    fixed_pcs = {"encoder": settings.encoder_pcs, "fasttext": settings.fasttext_pcs}
    fits, cosines = {}, {}
    for name, table in parts.items():
        grid = [fixed_pcs[name]] if fixed_pcs[name] is not None else [pcs for pcs in PCS_GRID if pcs < min(table.shape)]
        for pcs in grid:
            mean, components = fits[name, pcs] = postprocess_fit(table, False, pcs)
            unit = unit_rows(postprocess_apply(table, mean, components))
            cosines[name, pcs] = [_pair_cosines(unit, index) for _, index in pairs]
    weights = [settings.encoder_weight] if settings.encoder_weight is not None else WEIGHT_GRID
    fasttext_unit = unit_rows(parts["fasttext"])
    baseline = [spearman(_pair_cosines(fasttext_unit, index), index[:, 2]) for _, index in pairs]
    best, grid_scores = None, []
    for (_, encoder_pcs) in [key for key in cosines if key[0] == "encoder"]:
        for (_, fasttext_pcs) in [key for key in cosines if key[0] == "fasttext"]:
            for weight in weights:
                scores = [spearman(weight * e + (1 - weight) * f, index[:, 2])
                          for e, f, (_, index) in zip(cosines["encoder", encoder_pcs], cosines["fasttext", fasttext_pcs], pairs)]
                row = {"encoder_weight": weight, "encoder_pcs": encoder_pcs, "fasttext_pcs": fasttext_pcs,
                       "scores": {name: score for (name, _), score in zip(pairs, scores)}, "mean": float(numpy.mean(scores)),
                       "worst_gain": float(min(score - base for score, base in zip(scores, baseline)))}
                grid_scores.append(row)
                if best is None or _ranking(row, settings.objective) > _ranking(best, settings.objective):
                    best = row
    transforms = {
        "encoder": PartTransform(best["encoder_weight"], *fits["encoder", best["encoder_pcs"]]),
        "fasttext": PartTransform(round(1 - best["encoder_weight"], 6), *fits["fasttext", best["fasttext_pcs"]]),
    }
    parts_alone = {name: max((row for row in grid_scores if row["encoder_weight"] == (1.0 if name == "encoder" else 0.0)),
                             key=lambda row: _ranking(row, settings.objective), default=None) for name in PARTS}
    fit = {"sets": [name for name, _ in pairs], "pairs": {name: int(len(index)) for name, index in pairs}, "objective": settings.objective,
           "fasttext_alone": {name: score for (name, _), score in zip(pairs, baseline)}, "chosen": best,
           "best_alone": parts_alone, "grid_points": len(grid_scores)}
    return transforms, fit


def _pair_cosines(unit: numpy.ndarray, index: numpy.ndarray) -> numpy.ndarray:
    """Cosines of unit rows for (row, row, score) triples."""
    return (unit[index[:, 0].astype(int)] * unit[index[:, 1].astype(int)]).sum(1)


def _ranking(row: Dict, objective: str) -> Tuple[float, float]:
    return (row["worst_gain"], row["mean"]) if objective == "worst_gain" else (row["mean"], row["worst_gain"])


def build_joint(encoder_vectors, fasttext: StaticVectors, subwords: SubwordVectors, fit_sets: Sequence[WordPairs],
                settings: JointSettings) -> JointResult:
    """`encoder_vectors`: a `WordVectors` (an encoder export; words outside its table are
    composed when its encoder is at hand)."""
    settings.check()
    if not fit_sets and settings.encoder_weight is None:
        raise UserError("Give dev similarity sets to fit the weights on (--fit FILE), or fix them with --encoder-weight")
    if subwords.width != fasttext.width:
        raise UserError(f"The subword table is {subwords.width} wide and the fastText table {fasttext.width}: "
                        "give the pair `vectors fasttext` wrote together")
    words = joint_vocabulary(encoder_vectors.table.words, fasttext.words, encoder_vectors.lowercase, settings.max_words)
    encoder_part, found = encoder_vectors.lookup(words)
    if not found.all():
        raise UserError(f"{int((~found).sum()):,} joint words have no encoder vector and the encoder export's encoder is not at hand "
                        f"(it composes them); pass --encoder, or --max-words {len(encoder_vectors.table.words)} to keep the encoder table's words")
    parts = {"encoder": encoder_part, "fasttext": fasttext_part(words, fasttext, subwords)}
    rows = {word: i for i, word in enumerate(words)}
    if fit_sets:
        fit_sets = [keyed_pairs(pairs, encoder_vectors.lowercase) for pairs in fit_sets]
        transforms, fit = fit_transforms(parts, rows, fit_sets, settings)
    else:
        transforms = {
            "encoder": PartTransform(settings.encoder_weight, *postprocess_fit(parts["encoder"], False, settings.encoder_pcs or 0)),
            "fasttext": PartTransform(1 - settings.encoder_weight, *postprocess_fit(parts["fasttext"], False, settings.fasttext_pcs or 0)),
        }
        fit = {}
    table = numpy.hstack([transforms[name].apply(parts[name]) for name in PARTS])
    return JointResult(words, table, transforms, encoder_vectors.lowercase, fit)


def keyed_pairs(pairs: WordPairs, lowercase: bool) -> WordPairs:
    """The pairs as the table keys its words (lower-cased when it does)."""
    if not lowercase:
        return pairs
    return WordPairs(pairs.name, [(a.lower(), b.lower()) for a, b in pairs.pairs], pairs.scores)


def write_joint(output_dir: Path, result: JointResult, subwords: SubwordVectors, info: Dict) -> None:
    output_dir = Path(output_dir)
    write_spacy_vectors(output_dir, result.words, result.table, lowercase=result.lowercase)
    write_word2vec(output_dir / W2V_FILE, result.words, result.table)
    arrays = {f"{name}_{key}": getattr(result.transforms[name], key) for name in PARTS for key in ("mean", "components")}
    with (output_dir / JOINT_ARRAYS).open("wb") as file:
        numpy.savez(file, subword_ngrams=subwords.ngrams, subword_min_n=subwords.min_n, subword_max_n=subwords.max_n, **arrays)
    report = {**info, "parts": list(PARTS),
              "weights": {name: result.transforms[name].weight for name in PARTS},
              "removed_components": {name: int(result.transforms[name].components.shape[0]) for name in PARTS},
              "widths": {name: int(result.transforms[name].mean.shape[0]) for name in PARTS},
              "words": len(result.words), "fit": result.fit}
    (output_dir / JOINT_JSON).write_text(json.dumps(report, indent=2, default=_json_default), encoding="utf8")


def _json_default(value):
    if isinstance(value, numpy.generic):
        return value.item()
    raise TypeError(f"{type(value)} is not JSON serialisable")


class JointVectors:
    """A joint table; a word outside it is computed part by part, with the saved transforms."""

    def __init__(self, table: StaticVectors, transforms: Dict[str, PartTransform], subwords: SubwordVectors, encoder_vectors, lowercase: bool):
        self.table, self.transforms, self.subwords, self.encoder_vectors, self.lowercase = table, transforms, subwords, encoder_vectors, lowercase

    @property
    def oov_policy(self) -> str:
        encoder = ("the encoder part composed from its pieces" if getattr(self.encoder_vectors, "composer", None) is not None
                   else "no encoder part (the encoder is not at hand)")
        return f"a word outside the table gets its fastText part from its character n-grams and {encoder}"

    @classmethod
    def load(cls, path: Path) -> "JointVectors":
        import spacy

        from .wordvectors import WordVectors

        path = Path(path)
        if not (path / JOINT_JSON).is_file() or not (path / JOINT_ARRAYS).is_file():
            raise UserError(f"Not a `vectors join` directory (no {JOINT_JSON} or {JOINT_ARRAYS}): {path}")
        report = json.loads((path / JOINT_JSON).read_text(encoding="utf8"))
        with numpy.load(path / JOINT_ARRAYS, allow_pickle=False) as stored:
            transforms = {name: PartTransform(report["weights"][name], stored[f"{name}_mean"], stored[f"{name}_components"]) for name in PARTS}
            subwords = SubwordVectors(stored["subword_ngrams"], stored["subword_min_n"], stored["subword_max_n"])
        encoder_export = Path(report.get("encoder_vectors", ""))
        encoder = Path(report["encoder"]) if report.get("encoder") else None
        encoder_vectors = WordVectors.load(encoder_export, encoder) if report.get("encoder_vectors") and encoder_export.is_dir() else None
        if encoder_vectors is None:
            msg.warn(f"The encoder export {report.get('encoder_vectors')} is not at hand: words outside the joint table get only their fastText part")
        return cls(spacy_table(spacy.load(path).vocab), transforms, subwords, encoder_vectors, bool(report.get("lowercase")))

    def key(self, word: str) -> str:
        return word.lower() if self.lowercase else word

    def __getitem__(self, word: str) -> numpy.ndarray:
        return self.lookup([word])[0][0]

    def lookup(self, words: Sequence[str]) -> Tuple[numpy.ndarray, numpy.ndarray]:
        """Vectors and a found mask (all found: a word outside the table is computed)."""
        keys = [self.key(word) for word in words]
        vectors, found = self.table.lookup(keys)
        missing = numpy.flatnonzero(~found)
        if missing.size:
            todo = [keys[i] for i in missing]
            fasttext = self.subwords.vectors(todo)  # not in the table, so not in fastText's either
            if self.encoder_vectors is not None:
                encoder = self.encoder_vectors.lookup(todo)[0]
            else:
                encoder = numpy.zeros((len(todo), self.transforms["encoder"].mean.shape[0]), dtype="float32")
            vectors[missing] = numpy.hstack([self.transforms["encoder"].apply(encoder), self.transforms["fasttext"].apply(fasttext)])
            found[missing] = True
        return vectors, found


def fit_summary(fit: Dict) -> str:
    chosen = fit["chosen"]
    scores = ", ".join(f"{name} {score:.3f}" for name, score in chosen["scores"].items())
    return (f"encoder weight {chosen['encoder_weight']:.2f}, components removed: encoder {chosen['encoder_pcs']}, "
            f"fastText {chosen['fasttext_pcs']} (fit on {', '.join(fit['sets'])}: {scores}; fastText alone "
            + ", ".join(f"{name} {score:.3f}" for name, score in fit["fasttext_alone"].items()) + ")")
