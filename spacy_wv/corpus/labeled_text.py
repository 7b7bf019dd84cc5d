"""Label-text files -> spaCy Docs with exclusive `cats`.

Two layouts: `<label> <text>` (SST-2/SST-5, TREC's `COARSE:fine question`, first space
separates) and `<label><TAB><text>` (SMS Spam). TREC's labels can be cut to their
coarse class with `label_level="coarse"`.
"""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import spacy
from spacy.tokens import Doc, DocBin

from ..errors import UserError
from .bad_lines import BadLines
from .conll import doc_bin_output, write_doc_bin
from .text import iter_utf8_lines

SEPARATORS = {"space": " ", "tab": "\t"}
LABEL_LEVELS = ("full", "coarse")


@dataclass
class LabeledTextStats:
    docs: int = 0
    label_counts: Dict[str, int] = field(default_factory=dict)
    bad_lines: Optional[BadLines] = None
    unknown_labels: Dict[str, int] = field(default_factory=dict)


def parse_label_map(spec: str) -> Dict[str, str]:
    """`0=negative,1=positive` -> {"0": "negative", "1": "positive"}."""
    mapping: Dict[str, str] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        raw, sep, name = item.partition("=")
        if not sep or not raw or not name:
            raise UserError(f"Bad label map entry {item!r}: expected RAW=NAME, e.g. 0=negative,1=positive")
        mapping[raw] = name
    return mapping


def read_labeled_lines(
    path: Path, *, separator: str = "space", label_level: str = "full", label_map: Optional[Dict[str, str]] = None,
    stats: Optional[LabeledTextStats] = None, skip_unlabelled: bool = False,
) -> Iterator[Tuple[str, str]]:
    """Yield (label, text) pairs. An unlabelled line (no separator, no text, or, when a
    label map or a label list is given, a first field that is none of their labels) is
    an error naming its line, or with `skip_unlabelled` is skipped and counted. Blank
    lines are skipped."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"Label-text file not found: {path}")
    if separator not in SEPARATORS:
        raise UserError(f"separator must be one of {sorted(SEPARATORS)}, got {separator!r}")
    if label_level not in LABEL_LEVELS:
        raise UserError(f"label_level must be one of {LABEL_LEVELS}, got {label_level!r}")
    stats = stats if stats is not None else LabeledTextStats()
    stats.bad_lines = BadLines(path, strict=not skip_unlabelled,
                               hint="fix it, or pass --skip-unlabelled to skip such lines")
    known = set(label_map or {}) | set((label_map or {}).values())
    for line_no, line in iter_utf8_lines(path):
        if not line.strip():
            continue
        label, _, text = line.rstrip("\r\n").partition(SEPARATORS[separator])
        label, text = label.strip(), text.strip()
        if label_level == "coarse":
            label = label.split(":", 1)[0]
        problem = None
        if not label or not text:
            problem = f"no {separator}-separated label and text"
        elif known and label not in known:
            problem = f"{label!r} is not a label of the label map ({', '.join(sorted(known))})"
            stats.unknown_labels[label] = stats.unknown_labels.get(label, 0) + 1
        if problem:
            stats.bad_lines.report(line_no, line, f"unlabelled line, {problem}")
            continue
        if label_map:
            label = label_map.get(label, label)
        yield label, text


def labeled_text_to_docs(
    path: Path, *, separator: str = "space", label_level: str = "full", label_map: Optional[Dict[str, str]] = None,
    labels: Sequence[str] = (), lang: str = "en", max_docs: Optional[int] = None,
    stats: Optional[LabeledTextStats] = None, skip_unlabelled: bool = False,
) -> List[Doc]:
    """Every doc gets a score for every label (1.0 for its own), so an exclusive
    textcat sees the full label set even when a file lacks some label."""
    stats = stats if stats is not None else LabeledTextStats()
    pairs = []
    for label, text in read_labeled_lines(path, separator=separator, label_level=label_level,
                                          label_map=label_map, stats=stats, skip_unlabelled=skip_unlabelled):
        if max_docs is not None and len(pairs) >= max_docs:
            break
        pairs.append((label, text))
    all_labels = sorted(set(labels) | {label for label, _ in pairs})
    nlp = spacy.blank(lang)
    docs = []
    for doc, (label, _) in zip(nlp.pipe(text for _, text in pairs), pairs):
        doc.cats = {name: float(name == label) for name in all_labels}
        stats.label_counts[label] = stats.label_counts.get(label, 0) + 1
        docs.append(doc)
    stats.docs = len(docs)
    return docs


def rare_labels(stats: LabeledTextStats) -> List[str]:
    """Labels seen once in a file whose other labels are frequent: likely unlabelled
    lines whose first word was read as a label (a label map catches them for sure)."""
    if max(stats.label_counts.values(), default=0) < 10:
        return []
    return sorted(label for label, n in stats.label_counts.items() if n == 1)


def convert_labeled_text(path: Path, output: Path, **kwargs) -> LabeledTextStats:
    """Write a `.spacy` DocBin; refuses a file with fewer than two labels before writing."""
    with doc_bin_output(output, path):
        stats = LabeledTextStats()
        docs = labeled_text_to_docs(path, stats=stats, **kwargs)
        if not docs:
            raise UserError(f"No labelled lines found in {path}: expected '<label> <text>' per line")
        if len(docs[0].cats) < 2:
            raise UserError(f"Only one label ({next(iter(docs[0].cats))}) in {path}: a classifier needs at least two")
        write_doc_bin(DocBin(docs=docs, store_user_data=False), Path(output))
    return stats
