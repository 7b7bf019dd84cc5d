"""Word-similarity evaluation: Spearman's rho between human scores and vector cosines."""
from dataclasses import dataclass
from pathlib import Path
from typing import List, Tuple

import numpy
from wasabi import msg

from ..corpus.bad_lines import BadLines
from ..errors import UserError

OOV_POLICY = "pairs with an out-of-vocabulary word are skipped; coverage is reported"


@dataclass
class WordPairs:
    name: str
    pairs: List[Tuple[str, str]]
    scores: numpy.ndarray


def read_word_pairs(path: Path) -> WordPairs:
    """Read `word1<TAB>word2<TAB>score` lines. Malformed lines are skipped and reported
    with their line numbers; a file with no valid line is a UserError."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"Word-pair file not found: {path}")
    pairs, scores, bad_lines = [], [], BadLines(path)
    with path.open("r", encoding="utf8", errors="replace") as file:
        for line_number, line in enumerate(file, start=1):
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.rstrip("\r\n").split("\t")
            try:
                if len(fields) != 3 or not fields[0].strip() or not fields[1].strip():
                    raise ValueError
                score = float(fields[2])
                if not numpy.isfinite(score):
                    raise ValueError
            except ValueError:
                bad_lines.report(line_number, line, "expected word1<TAB>word2<TAB>score")
                continue
            pairs.append((fields[0].strip(), fields[1].strip()))
            scores.append(score)
    if not pairs:
        raise UserError(f"{path}: no valid `word1<TAB>word2<TAB>score` line")
    if bad_lines.lines:
        msg.warn(bad_lines.summary())
    return WordPairs(path.stem, pairs, numpy.asarray(scores, dtype="float64"))


def rank(values: numpy.ndarray) -> numpy.ndarray:
    """1-based ranks; tied values share the average of their ranks."""
    values = numpy.asarray(values)
    order = numpy.argsort(values, kind="mergesort")
    sorted_values = values[order]
    starts_run = numpy.r_[True, sorted_values[1:] != sorted_values[:-1]]
    run_id = numpy.cumsum(starts_run) - 1
    run_starts = numpy.flatnonzero(starts_run)
    run_ends = numpy.r_[run_starts[1:], values.size]
    average_rank = (run_starts + run_ends + 1) / 2.0
    ranks = numpy.empty(values.size, dtype="float64")
    ranks[order] = average_rank[run_id]
    return ranks


def spearman(x: numpy.ndarray, y: numpy.ndarray) -> float:
    """Spearman's rho: the Pearson correlation of the (tie-averaged) ranks; nan when
    fewer than two pairs or one side is constant."""
    if len(x) < 2:
        return float("nan")
    rank_x, rank_y = rank(x) - (len(x) + 1) / 2, rank(y) - (len(y) + 1) / 2
    denominator = numpy.sqrt((rank_x**2).sum() * (rank_y**2).sum())
    return float((rank_x * rank_y).sum() / denominator) if denominator > 0 else float("nan")


def evaluate_similarity(vectors, word_pairs: WordPairs) -> dict:
    """Spearman's rho of cosine similarities against the human scores, over the pairs
    whose two words have a vector. `vectors` is anything with `lookup(words)`."""
    first, found_first = vectors.lookup([a for a, _ in word_pairs.pairs])
    second, found_second = vectors.lookup([b for _, b in word_pairs.pairs])
    covered = found_first & found_second
    norms = numpy.linalg.norm(first, axis=1) * numpy.linalg.norm(second, axis=1)
    covered &= norms > 0
    cosines = (first * second).sum(axis=1)[covered] / norms[covered]
    return {
        "spearman": spearman(cosines, word_pairs.scores[covered]),
        "pairs": len(word_pairs.pairs),
        "covered": int(covered.sum()),
        "coverage": float(covered.mean()),
        "oov_policy": OOV_POLICY,
    }
