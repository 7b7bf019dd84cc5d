"""Weibo NER (Peng & Dredze 2015, the revised "2nd" annotations) -> spaCy Docs.

One character per line, `CHAR DIGIT <TAB> TAG`: the digit after each character is its
position in its jieba word (`科0 技1`, two digits from the 11th character of a word)
and is stripped. Tags are BIO over four types,
each named (`.NAM`) or nominal (`.NOM`): `labels="named"` keeps the named mentions
as PER/ORG/LOC/GPE (the usual "Weibo NE" task); `labels="all"` keeps all eight labels
(PER.NAM, PER.NOM, ...). A blank line ends a message; each message becomes one Doc of
single-character tokens without spaces (what spaCy's `zh` tokenizer makes with
`segmenter = "char"`).

A malformed line (no tab, no position digit, an unknown tag) drops its message and is
counted with its line number; with `strict=True` it is an error naming the line.
"""
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

from spacy.tokens import Doc, DocBin
from spacy.training.iob_utils import biluo_tags_to_spans, iob_to_biluo
from spacy.vocab import Vocab

from ..errors import UserError
from .bad_lines import BadLines
from .conll import doc_bin_output, iob1_to_iob2, write_doc_bin
from .text import iter_utf8_lines

LABEL_SETS = ("named", "all")
TAG = re.compile(r"^(O|[BI]-[A-Z]+\.(NAM|NOM))$")
# The character, then its position in its jieba word: one digit, or two in words of more
# than ten characters (`310` is the character 3 at position 10). A broken emoji in the
# source is two U+FFFD characters on one line.
TOKEN = re.compile(r"^(.+?)(\d+)$", re.DOTALL)


@dataclass
class WeiboStats:
    docs: int = 0
    chars: int = 0
    entities: int = 0
    label_counts: Dict[str, int] = field(default_factory=Counter)
    skipped_messages: int = 0
    bad_lines: Optional[BadLines] = None


def read_weibo(path: Path, bad: BadLines) -> Iterator[Tuple[List[str], List[str], bool]]:
    """Yield (characters, tags, ok) per message; `ok` is False for a message with a
    malformed line (its characters and tags are then incomplete)."""
    chars: List[str] = []
    tags: List[str] = []
    broken = False
    for line_no, line in iter_utf8_lines(path):
        line = line.rstrip("\r\n").lstrip("\ufeff")
        if not line.strip():
            if chars or broken:
                yield chars, tags, not broken
            chars, tags, broken = [], [], False
            continue
        token, sep, tag = line.partition("\t")
        tag = tag.strip()
        match = TOKEN.match(token)
        if not sep or match is None or not TAG.match(tag):
            bad.report(line_no, line, "expected CHARACTER+POSITION-DIGIT<TAB>TAG (e.g. '科0\\tB-ORG.NAM')")
            broken = True
            continue
        chars.append(match.group(1))
        tags.append(tag)
    if chars or broken:
        yield chars, tags, not broken


def select_labels(tags: List[str], labels: str) -> List[str]:
    """Keep `.NAM` tags only as PER/ORG/... (`named`) or all tags as they are (`all`)."""
    if labels == "all":
        return list(tags)
    return [tag[: -len(".NAM")] if tag.endswith(".NAM") else "O" for tag in tags]


def weibo_doc(vocab: Vocab, chars: List[str], tags: List[str]) -> Doc:
    doc = Doc(vocab, words=chars, spaces=[False] * len(chars))
    iob2, _ = iob1_to_iob2(tags)  # an I- after O or another type starts an entity
    doc.ents = biluo_tags_to_spans(doc, iob_to_biluo(iob2))
    return doc


def convert_weibo(input_path: Path, output_path: Path, labels: str = "named", strict: bool = False,
                  max_docs: Optional[int] = None) -> WeiboStats:
    input_path, output_path = Path(input_path), Path(output_path)
    if labels not in LABEL_SETS:
        raise UserError(f"labels must be one of {', '.join(LABEL_SETS)}, got {labels!r}")
    if not input_path.is_file():
        raise UserError(f"Weibo NER file not found: {input_path}")
    with doc_bin_output(output_path, input_path):
        stats = WeiboStats(bad_lines=BadLines(input_path, strict))
        vocab = Vocab()
        db = DocBin(store_user_data=False)
        for chars, tags, ok in read_weibo(input_path, stats.bad_lines):
            if not ok:
                stats.skipped_messages += 1
                continue
            if max_docs is not None and stats.docs >= max_docs:
                break
            doc = weibo_doc(vocab, chars, select_labels(tags, labels))
            db.add(doc)
            stats.docs += 1
            stats.chars += len(doc)
            stats.entities += len(doc.ents)
            stats.label_counts.update(ent.label_ for ent in doc.ents)
        if not stats.docs:
            raise UserError(f"{input_path}: no message could be read ({len(stats.bad_lines.lines)} malformed lines)")
        write_doc_bin(db, output_path)
    return stats
