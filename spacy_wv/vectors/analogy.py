"""Analogy evaluation (a:b :: c:?) in the `questions-words.txt` format, by 3CosAdd and
3CosMul (Levy & Goldberg 2014), over a restricted candidate vocabulary."""
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

import numpy
from wasabi import msg

from ..corpus.bad_lines import BadLines
from ..errors import UserError
from .tables import StaticVectors

DEFAULT_TOP_N = 30_000
MUL_EPSILON = 1e-3
BATCH = 512
POLICY = (
    "words are looked up exactly, else case-insensitively (most frequent variant); questions with a word "
    "outside the candidate vocabulary are skipped (coverage reported); a, b and c are excluded as answers; "
    "an answer is correct when it equals d ignoring case"
)


@dataclass
class Question:
    section: str
    words: List[str]  # a, b, c, d

    @property
    def category(self) -> str:
        return "syntactic" if self.section.startswith("gram") else "semantic"


def read_analogies(path: Path) -> List[Question]:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"Analogy file not found: {path}")
    questions, bad_lines, section = [], BadLines(path), "default"
    with path.open("r", encoding="utf8", errors="replace") as file:
        for line_number, line in enumerate(file, start=1):
            if line.startswith(":"):
                section = line[1:].strip() or section
                continue
            words = line.split()
            if not words:
                continue
            if len(words) != 4:
                bad_lines.report(line_number, line, "expected four words")
                continue
            questions.append(Question(section, words))
    if not questions:
        raise UserError(f"{path}: no valid `a b c d` analogy line")
    if bad_lines.lines:
        msg.warn(bad_lines.summary())
    return questions


def evaluate_analogies(candidates: StaticVectors, questions: List[Question]) -> Dict:
    """Accuracy of 3CosAdd and 3CosMul per category (semantic, syntactic) and overall,
    counting only questions whose four words are candidates."""
    table = candidates.table.astype("float32")
    norms = numpy.linalg.norm(table, axis=1, keepdims=True)
    unit = numpy.divide(table, norms, out=numpy.zeros_like(table), where=norms > 0)
    rows = numpy.array([[_row(candidates, word) for word in q.words] for q in questions], dtype="int64")
    covered = (rows >= 0).all(axis=1)
    correct = {"3CosAdd": numpy.zeros(len(questions), bool), "3CosMul": numpy.zeros(len(questions), bool)}
    answer_keys = numpy.array([word.lower() for word in candidates.words], dtype=object)
    covered_index = numpy.flatnonzero(covered)
    for start in range(0, covered_index.size, BATCH):
        index = covered_index[start : start + BATCH]
        a, b, c, d = rows[index].T
        sim_a, sim_b, sim_c = unit[a] @ unit.T, unit[b] @ unit.T, unit[c] @ unit.T
        excluded = (numpy.arange(len(index))[:, None].repeat(3, axis=1), numpy.stack([a, b, c], axis=1))
        scores = {
            "3CosAdd": sim_b - sim_a + sim_c,
            "3CosMul": ((sim_b + 1) / 2) * ((sim_c + 1) / 2) / ((sim_a + 1) / 2 + MUL_EPSILON),
        }
        answers = answer_keys[d]
        for method, score in scores.items():
            score[excluded] = -numpy.inf
            correct[method][index] = answer_keys[score.argmax(axis=1)] == answers
    categories = numpy.array([q.category for q in questions])
    sections = numpy.array([q.section for q in questions])
    result = {"questions": len(questions), "covered": int(covered.sum()), "coverage": float(covered.mean()), "candidates": len(candidates.words), "policy": POLICY}
    for method, hits in correct.items():
        result[method] = {
            "overall": _accuracy(hits, covered),
            "semantic": _accuracy(hits, covered & (categories == "semantic")),
            "syntactic": _accuracy(hits, covered & (categories == "syntactic")),
            "sections": {name: _accuracy(hits, covered & (sections == name)) for name in dict.fromkeys(sections)},
        }
    for category in ("semantic", "syntactic"):
        in_category = categories == category
        result[f"coverage_{category}"] = float(covered[in_category].mean()) if in_category.any() else float("nan")
    return result


def _row(candidates: StaticVectors, word: str) -> int:
    row = candidates.row(word)
    return -1 if row is None else row


def _accuracy(hits: numpy.ndarray, mask: numpy.ndarray) -> float:
    return float(hits[mask].mean()) if mask.any() else float("nan")
