"""Vectors in context: is a word used the same way in two sentences?

The input is JSONL, one pair per line, in the layout of WiC (Pilehvar & Camacho-Collados
2019) as shipped in `data/wic/*.jsonl`:

    {"word1": "board", "context1": "Room and board .", "start1": 9, "end1": 14,
     "context2": "He nailed boards across the windows .", "start2": 10, "end2": 16,
     "target1": "board", "target2": "boards", "label": 0}

`context[start:end]` is the target word (character offsets, end exclusive); `target1`/
`target2` are optional and checked against the offsets when given. A pair has a `label`
(0/1: same sense or not; reported as accuracy, with a cosine threshold fitted on a
training file) or a graded `score` (reported as Spearman's rho of the cosines).

A pipeline is scored through `wv_vectors` (the vector of the span at the offsets, as a
user of `span.vector` gets it); a static table by the context-free vectors of the two
target words, which cannot tell senses apart (a floor).
"""
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy

from ..errors import UserError
from .similarity import spearman

REQUIRED = ("context1", "start1", "end1", "context2", "start2", "end2")


@dataclass
class ContextPairs:
    name: str
    contexts: List[Tuple[str, str]]
    spans: List[Tuple[Tuple[int, int], Tuple[int, int]]]
    targets: List[Tuple[str, str]]
    gold: numpy.ndarray
    kind: str  # "label" or "score"


def pairs_name(path: Path) -> str:
    """`wic/dev.jsonl` -> `wic_dev`; `my_pairs.jsonl` -> `my_pairs`."""
    path = Path(path)
    return f"{path.parent.name}_{path.stem}" if path.stem in ("dev", "train", "test", "valid", "validation") and path.parent.name else path.stem


def read_context_pairs(path: Path) -> ContextPairs:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"In-context pairs file not found: {path}")
    contexts, spans, targets, gold, kinds = [], [], [], [], set()
    with path.open("r", encoding="utf8", errors="replace") as file:
        for line_number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            where = f"{path}:{line_number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise UserError(f"{where}: not valid JSON ({error.msg})") from None
            if not isinstance(record, dict):
                raise UserError(f"{where}: expected a JSON object")
            missing = [key for key in REQUIRED if key not in record]
            if missing:
                raise UserError(f"{where}: missing {', '.join(missing)} (each pair needs context1/2 and the character offsets start1/2, end1/2)")
            pair_spans, pair_targets = [], []
            for side in ("1", "2"):
                text, start, end = record["context" + side], record["start" + side], record["end" + side]
                if not isinstance(text, str) or not all(isinstance(x, int) and not isinstance(x, bool) for x in (start, end)):
                    raise UserError(f"{where}: context{side} must be a string and start{side}/end{side} integers")
                if not 0 <= start < end <= len(text):
                    raise UserError(f"{where}: offsets {start}:{end} do not lie inside context{side} ({len(text)} characters)")
                found = text[start:end]
                expected = record.get("target" + side)
                if expected is not None and found != expected:
                    raise UserError(f"{where}: context{side}[{start}:{end}] is {found!r}, not the target {expected!r}")
                if found != found.strip() or not found.strip():
                    raise UserError(f"{where}: context{side}[{start}:{end}] is {found!r}: offsets must point at a word, not at spaces")
                pair_spans.append((start, end))
                pair_targets.append(found)
            if "label" in record:
                value, kind = record["label"], "label"
                if value not in (0, 1, True, False):
                    raise UserError(f"{where}: label must be 0 or 1, got {value!r}")
            elif "score" in record:
                value, kind = record["score"], "score"
                if not isinstance(value, (int, float)) or isinstance(value, bool) or not numpy.isfinite(value):
                    raise UserError(f"{where}: score must be a finite number, got {value!r}")
            else:
                raise UserError(f"{where}: neither a label (0/1) nor a score")
            kinds.add(kind)
            if len(kinds) > 1:
                raise UserError(f"{where}: the file mixes labels and scores; use one kind per file")
            contexts.append((record["context1"], record["context2"]))
            spans.append(tuple(pair_spans))
            targets.append(tuple(pair_targets))
            gold.append(float(value))
    if not contexts:
        raise UserError(f"{path}: no pairs (empty file)")
    return ContextPairs(pairs_name(path), contexts, spans, targets, numpy.asarray(gold), kinds.pop())


def pair_cosines(source, pairs: ContextPairs) -> numpy.ndarray:
    """Cosine of the two target vectors of each pair; nan where either has no vector."""
    first, second = source.in_context_vectors(pairs)
    norms = numpy.linalg.norm(first, axis=1) * numpy.linalg.norm(second, axis=1)
    cosines = numpy.full(len(first), numpy.nan)
    ok = norms > 0
    cosines[ok] = (first[ok] * second[ok]).sum(1) / norms[ok]
    return cosines


def fit_threshold(cosines: numpy.ndarray, labels: numpy.ndarray) -> float:
    """The cosine threshold (same sense when cosine >= threshold) with the best accuracy."""
    ok = ~numpy.isnan(cosines)
    values, gold = cosines[ok], labels[ok]
    if values.size == 0:
        return float("nan")
    candidates = numpy.unique(values)
    candidates = numpy.concatenate([[candidates[0] - 1e-6], (candidates[1:] + candidates[:-1]) / 2, [candidates[-1] + 1e-6]])
    order = numpy.argsort(values)
    sorted_gold = gold[order]
    # Accuracy of "cos >= t": positives at or above t, negatives below t.
    positives_below = numpy.concatenate([[0], numpy.cumsum(sorted_gold)])
    negatives_below = numpy.concatenate([[0], numpy.cumsum(1 - sorted_gold)])
    below = numpy.searchsorted(values[order], candidates, side="left")
    correct = (gold.sum() - positives_below[below]) + negatives_below[below]
    return float(candidates[int(numpy.argmax(correct))])


def check_training_pairs(train: ContextPairs) -> None:
    """Pairs to fit a cosine threshold on: labelled, with both labels (a threshold fitted
    on one class only puts every pair of the evaluation on that side)."""
    if train.kind != "label":
        raise UserError(f"The training pairs {train.name} have scores, not labels: a threshold needs labels")
    labels = sorted({int(label) for label in train.gold})
    if len(labels) < 2:
        raise UserError(f"The training pairs {train.name} all have label {labels[0]}: "
                        f"a cosine threshold needs pairs of both labels (0 and 1)")


def evaluate_in_context(source, pairs: ContextPairs, train: Optional[ContextPairs] = None) -> Dict:
    cosines = pair_cosines(source, pairs)
    covered = ~numpy.isnan(cosines)
    result: Dict = {"pairs": len(cosines), "covered": int(covered.sum()), "coverage": float(covered.mean()), "kind": pairs.kind}
    if pairs.kind == "score":
        result["spearman"] = spearman(cosines[covered], pairs.gold[covered])
        return result
    if train is not None:
        check_training_pairs(train)
        threshold, fitted_on = fit_threshold(pair_cosines(source, train), train.gold), train.name
    else:
        threshold, fitted_on = fit_threshold(cosines, pairs.gold), f"{pairs.name} itself (no training file: optimistic)"
    predicted = cosines >= threshold
    # Over the covered pairs, as word similarity; coverage is reported beside it.
    hits = (predicted == (pairs.gold == 1))[covered]
    result.update(accuracy=float(hits.mean()) if hits.size else float("nan"), threshold=threshold, threshold_fitted_on=fitted_on)
    return result


def span_vectors(nlp, texts: Sequence[str], spans: Sequence[Tuple[int, int]], batch_size: int = 128) -> numpy.ndarray:
    """`span.vector` of the character span of each text, through the pipeline (each
    distinct text runs once). A span that cuts a token is expanded to whole tokens."""
    unique = list(dict.fromkeys(texts))
    docs = dict(zip(unique, nlp.pipe(unique, batch_size=batch_size)))
    rows = []
    for text, (start, end) in zip(texts, spans):
        doc = docs[text]
        span = doc.char_span(start, end, alignment_mode="expand")
        rows.append(span.vector if span is not None and len(span) else None)
    width = next((row.shape[0] for row in rows if row is not None and row.shape), 0)
    out = numpy.zeros((len(rows), width), dtype="float32")
    for i, row in enumerate(rows):
        if row is not None and row.shape == (width,):
            out[i] = row
    return out
