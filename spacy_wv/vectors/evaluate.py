"""Run the intrinsic evaluations over several vector sets and report them as a table."""
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from wasabi import msg

from .analogy import DEFAULT_TOP_N, evaluate_analogies, read_analogies
from .similarity import OOV_POLICY, evaluate_similarity, read_word_pairs


def evaluate_sources(sources: Sequence, similarity_files: Sequence[Path] = (), analogy_file: Optional[Path] = None, top_n: int = DEFAULT_TOP_N) -> Dict:
    """{"vectors": {name: {"description", "similarity": {set: ...}, "analogy": ...}}, ...}.
    Every input file is read before any vectors are evaluated, so a bad file fails fast."""
    word_pair_sets = [read_word_pairs(path) for path in similarity_files]
    questions = read_analogies(analogy_file) if analogy_file else None
    results: Dict = {"similarity_oov_policy": OOV_POLICY, "analogy_top_n": top_n, "vectors": {}}
    for source in sources:
        entry: Dict = {"kind": source.kind, "description": source.describe(), "similarity": {}}
        for pairs in word_pair_sets:
            entry["similarity"][pairs.name] = evaluate_similarity(source, pairs)
        if questions is not None:
            candidates = source.analogy_candidates(top_n, (word for q in questions for word in q.words))
            entry["analogy"] = evaluate_analogies(candidates, questions)
            entry["analogy"]["candidates_policy"] = source.candidates_policy(top_n)
        results["vectors"][source.name] = entry
    return results


def score_rows(results: Dict) -> List[tuple]:
    """(metric, {vectors name: value}) for every reported number, in display order."""
    names = list(results["vectors"])
    first = results["vectors"][names[0]] if names else {}
    rows = []
    for pair_set in first.get("similarity", {}):
        rows.append((f"{pair_set} rho", {n: results["vectors"][n]["similarity"][pair_set]["spearman"] for n in names}))
        rows.append((f"{pair_set} coverage", {n: results["vectors"][n]["similarity"][pair_set]["coverage"] for n in names}))
    if "analogy" in first:
        for method in ("3CosAdd", "3CosMul"):
            for part in ("semantic", "syntactic", "overall"):
                rows.append((f"analogy {method} {part}", {n: results["vectors"][n]["analogy"][method][part] for n in names}))
        rows.append(("analogy coverage", {n: results["vectors"][n]["analogy"]["coverage"] for n in names}))
    return rows


def print_results(results: Dict) -> None:
    names = list(results["vectors"])
    for name in names:
        entry = results["vectors"][name]
        msg.info(f"{name}: {entry['description']}" + (f"; {entry['analogy']['candidates_policy']}" if "analogy" in entry else ""))
    rows = [(metric, *(f"{values[n]:.3f}" for n in names)) for metric, values in score_rows(results)]
    msg.table(rows, header=("metric", *names), divider=True, aligns=("l", *("r" for _ in names)))
    msg.text(f"Similarity: Spearman rho of cosines; {results['similarity_oov_policy']}.")
    if any("analogy" in entry for entry in results["vectors"].values()):
        msg.text("Analogy: accuracy over covered questions (3CosAdd; 3CosMul with epsilon 0.001); a, b, c excluded; "
                 "answers compared ignoring case.")


def json_ready(value):
    """JSON has no NaN: an undefined score (nothing covered) becomes null."""
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, float) and value != value:
        return None
    return value
