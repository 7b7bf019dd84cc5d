"""Data augmentation for `[corpora.train.augmenter]`.

Both augmenters replace a fraction `level` of the training examples by a changed copy
(as spaCy's own augmenters do) and keep the token count of everything they do not
change, so entity spans and `cats` carry over.
"""
import random
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from spacy.language import Language
from spacy.tokens import Doc, DocBin, Span
from spacy.training import Example
from spacy.util import registry

from .errors import UserError

MentionTable = Dict[str, List[Tuple[str, ...]]]
Augmenter = Callable[[Language, Example], Iterator[Example]]
NOISE_KINDS = ("lower", "upper", "title", "drop_char", "swap_chars", "repeat_char")


def _check_level(level: float, name: str = "level") -> None:
    if not 0.0 <= level <= 1.0:
        raise UserError(f"Augmenter {name} must be in [0, 1], got {level}")


def build_mention_table(docs) -> MentionTable:
    """Every distinct entity mention of the corpus, by entity type."""
    table: Dict[str, Dict[Tuple[str, ...], None]] = {}
    for doc in docs:
        for ent in doc.ents:
            table.setdefault(ent.label_, {})[tuple(t.text for t in ent)] = None
    return {label: list(mentions) for label, mentions in table.items()}


def _rebuild(nlp: Language, example: Example, words: List[str], spaces: List[bool],
             ents: Sequence[Tuple[int, int, str]]) -> Example:
    reference = Doc(nlp.vocab, words=words, spaces=spaces)
    reference.ents = [Span(reference, start, end, label=label) for start, end, label in ents]
    reference.cats = dict(example.reference.cats)
    return Example(Doc(nlp.vocab, words=words, spaces=spaces), reference)


def swap_entities(nlp: Language, example: Example, table: MentionTable, rng: random.Random) -> Example:
    ref = example.reference
    words: List[str] = []
    spaces: List[bool] = []
    ents = []
    position = 0
    for ent in ref.ents:
        words.extend(t.text for t in ref[position:ent.start])
        spaces.extend(bool(t.whitespace_) for t in ref[position:ent.start])
        choices = table.get(ent.label_)
        mention = rng.choice(choices) if choices else tuple(t.text for t in ent)
        start = len(words)
        words.extend(mention)
        spaces.extend([True] * (len(mention) - 1) + [bool(ent[-1].whitespace_)])
        ents.append((start, len(words), ent.label_))
        position = ent.end
    words.extend(t.text for t in ref[position:])
    spaces.extend(bool(t.whitespace_) for t in ref[position:])
    return _rebuild(nlp, example, words, spaces, ents)


@registry.augmenters("spacy_wv.EntitySwapAugmenter.v1")
def create_entity_swap_augmenter(corpus: Path, level: float = 0.3, seed: int = 0) -> Augmenter:
    """Replace each entity of a `level` fraction of examples by a random mention of the
    same type from `corpus` (the training .spacy file)."""
    _check_level(level)
    corpus = Path(corpus)
    if not corpus.is_file():
        raise UserError(f"Entity swap corpus not found: {corpus}")
    rng = random.Random(seed)
    table: Optional[MentionTable] = None

    def augment(nlp: Language, example: Example) -> Iterator[Example]:
        nonlocal table
        if table is None:
            table = build_mention_table(DocBin().from_disk(corpus).get_docs(nlp.vocab))
        if example.reference.ents and rng.random() < level:
            yield swap_entities(nlp, example, table, rng)
        else:
            yield example

    return augment


def noisy_token(text: str, rng: random.Random) -> str:
    """One random casing or character edit; never empty, never adds whitespace."""
    kind = rng.choice(NOISE_KINDS)
    if kind == "lower":
        return text.lower()
    if kind == "upper":
        return text.upper()
    if kind == "title":
        return text.title()
    if len(text) < 3:
        return text
    i = rng.randrange(len(text) - 1)
    if kind == "drop_char":
        return text[:i] + text[i + 1:]
    if kind == "swap_chars":
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]
    return text[:i] + text[i] + text[i:]


@registry.augmenters("spacy_wv.TokenNoiseAugmenter.v1")
def create_token_noise_augmenter(level: float = 0.3, token_prob: float = 0.1, seed: int = 0) -> Augmenter:
    """In a `level` fraction of examples, change each alphabetic token with probability
    `token_prob` by a casing change or a character drop/swap/repeat."""
    _check_level(level)
    _check_level(token_prob, "token_prob")
    rng = random.Random(seed)

    def augment(nlp: Language, example: Example) -> Iterator[Example]:
        if rng.random() >= level:
            yield example
            return
        ref = example.reference
        words = [noisy_token(t.text, rng) if t.is_alpha and rng.random() < token_prob else t.text for t in ref]
        spaces = [bool(t.whitespace_) for t in ref]
        yield _rebuild(nlp, example, words, spaces, [(e.start, e.end, e.label_) for e in ref.ents])

    return augment
