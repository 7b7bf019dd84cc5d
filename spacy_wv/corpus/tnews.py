"""TNEWS (CLUE / FewCLUE) news-title classification, JSON lines -> spaCy Docs with cats.

Each line: `{"label": 100, "label_desc": "news_story", "sentence": "...", "keywords": ..., "id": ...}`.
The category names are the `label_desc` values; `labels.json` of the dataset (one JSON
object per line with `label_desc`) gives all 15 so that every split has the same
categories, including those absent from a small split. Titles are tokenised by spaCy's
`zh` tokenizer with the chosen segmenter (`char` or `jieba`); `spacy train` retokenises
with its own pipeline's tokenizer anyway. Unreadable lines (bad JSON, no sentence, a
label outside `labels.json`) are counted with their line numbers and skipped, or with
`strict=True` are an error naming the line. Lines without a label (the unlabelled
split) are skipped unless `allow_unlabeled` (then the Doc has no cats).
"""
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

from spacy.tokens import DocBin

from ..errors import UserError
from .bad_lines import BadLines
from .conll import doc_bin_output, write_doc_bin
from .segment import SEGMENTERS
from .text import iter_utf8_lines


@dataclass
class TnewsStats:
    docs: int = 0
    unlabeled: int = 0
    label_counts: Dict[str, int] = field(default_factory=Counter)
    bad_lines: Optional[BadLines] = None


def read_label_names(path: Path) -> List[str]:
    """The `label_desc` of every line of TNEWS' labels.json, in file order."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"TNEWS labels file not found: {path}")
    names = []
    for line_no, line in iter_utf8_lines(path):
        if not line.strip():
            continue
        try:
            names.append(str(json.loads(line)["label_desc"]))
        except (ValueError, KeyError, TypeError):
            raise UserError(f"{path}:{line_no}: expected a JSON object with a 'label_desc'") from None
    if not names:
        raise UserError(f"{path}: no labels")
    return names


def read_tnews(path: Path, bad: BadLines, known: Optional[List[str]] = None) -> Iterator[Tuple[str, Optional[str]]]:
    """Yield (title, label or None)."""
    for line_no, line in iter_utf8_lines(path):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            text = record["sentence"]
        except (ValueError, KeyError, TypeError):
            bad.report(line_no, line, "expected a JSON object with a 'sentence'")
            continue
        label = record.get("label_desc")
        if not isinstance(text, str) or not text.strip():
            bad.report(line_no, line, "empty 'sentence'")
        elif label is not None and not str(label).strip():
            bad.report(line_no, line, "empty 'label_desc' (leave the field out of an unlabelled line)")
        elif known is not None and label is not None and label not in known:
            bad.report(line_no, line, f"label {label!r} is not in the labels file")
        else:
            yield text.strip(), (None if label is None else str(label))


def convert_tnews(input_path: Path, output_path: Path, labels_path: Optional[Path] = None, segmenter: str = "char",
                  strict: bool = False, allow_unlabeled: bool = False, max_docs: Optional[int] = None) -> TnewsStats:
    import spacy

    input_path, output_path = Path(input_path), Path(output_path)
    if not input_path.is_file():
        raise UserError(f"TNEWS file not found: {input_path}")
    if segmenter not in SEGMENTERS:
        raise UserError(f"Unknown segmenter '{segmenter}': choose one of {', '.join(SEGMENTERS)}")
    with doc_bin_output(output_path, input_path):
        known = read_label_names(labels_path) if labels_path else None
        stats = TnewsStats(bad_lines=BadLines(input_path, strict))
        records = list(read_tnews(input_path, stats.bad_lines, known))
        names = known or sorted({label for _, label in records if label is not None})
        nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": segmenter}}})
        db = DocBin(store_user_data=False)
        for text, label in records:
            if max_docs is not None and stats.docs >= max_docs:
                break
            if label is None and not allow_unlabeled:
                stats.unlabeled += 1
                continue
            doc = nlp.make_doc(text)
            if label is not None:
                doc.cats = {name: float(name == label) for name in names}
                stats.label_counts[label] += 1
            db.add(doc)
            stats.docs += 1
        if not stats.docs:
            raise UserError(f"{input_path}: no labelled title could be read")
        write_doc_bin(db, output_path)
    return stats
