"""JSONL annotations with character-offset entities -> spaCy Docs.

One object per line: `{"text": "...", "entities": [[start, end, "LABEL"], ...]}` (also
accepted: `"spans"` and `{"start", "end", "label"}` dicts, as annotation tools write).
Character offsets need not fall on spaCy token boundaries; such spans are counted and
dropped (or snapped with `alignment_mode="expand"|"contract"`), never a crash.
"""
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import spacy
from spacy.tokens import Doc, DocBin
from spacy.util import filter_spans

from ..errors import UserError
from .bad_lines import BadLines
from .conll import doc_bin_output, write_doc_bin
from .text import iter_utf8_lines

ALIGNMENT_MODES = ("strict", "expand", "contract")


@dataclass
class SpanStats:
    docs: int = 0
    entities: int = 0
    misaligned: int = 0
    overlapping: int = 0
    empty_labels: int = 0
    bad_lines: Optional[BadLines] = None


def _entity_triples(record: dict):
    for ent in record.get("entities", record.get("spans", [])):
        if isinstance(ent, dict):
            yield int(ent["start"]), int(ent["end"]), str(ent["label"])
        else:
            start, end, label = ent
            yield int(start), int(end), str(label)


def char_spans_to_docs(
    path: Path, *, lang: str = "en", alignment_mode: str = "strict", stats: Optional[SpanStats] = None,
) -> Iterator[Doc]:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"JSONL file not found: {path}")
    if alignment_mode not in ALIGNMENT_MODES:
        raise UserError(f"alignment_mode must be one of {ALIGNMENT_MODES}, got {alignment_mode!r}")
    stats = stats if stats is not None else SpanStats()
    stats.bad_lines = BadLines(path)
    nlp = spacy.blank(lang)
    for line_no, line in iter_utf8_lines(path):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            text = record["text"]
            triples = list(_entity_triples(record))
        except (ValueError, KeyError, TypeError):
            stats.bad_lines.report(line_no, line, "not a JSON object with 'text' and 'entities'")
            continue
        if not isinstance(text, str):
            stats.bad_lines.report(line_no, line, "'text' is not a string")
            continue
        doc = nlp.make_doc(text)
        spans = []
        for start, end, label in triples:
            if not label.strip():
                stats.empty_labels += 1  # spaCy would drop an entity without a label
                continue
            span = doc.char_span(start, end, label=label, alignment_mode=alignment_mode)
            if span is None or len(span) == 0:
                stats.misaligned += 1
            else:
                spans.append(span)
        kept = filter_spans(spans)
        stats.overlapping += len(spans) - len(kept)
        doc.ents = kept
        stats.docs += 1
        stats.entities += len(doc.ents)
        yield doc


def convert_char_spans(path: Path, output: Path, **kwargs) -> SpanStats:
    with doc_bin_output(output, path):
        stats = SpanStats()
        docs = list(char_spans_to_docs(path, stats=stats, **kwargs))
        if not docs:
            raise UserError(f"No documents found in {path}: expected one JSON object with a 'text' per line")
        write_doc_bin(DocBin(docs=docs, store_user_data=False), Path(output))
    return stats
