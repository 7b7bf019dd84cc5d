"""Run the intrinsic evaluations over several vector sets and report them as a table."""
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from wasabi import msg

from .analogy import DEFAULT_TOP_N, evaluate_analogies, read_analogies
from ..errors import UserError
from .in_context import check_training_pairs, evaluate_in_context, read_context_pairs
from .similarity import OOV_POLICY, evaluate_similarity, read_word_pairs

CONTEXTUAL_ANALOGY = "(contextual: question-file words only)"


def evaluate_sources(sources: Sequence, similarity_files: Sequence[Path] = (), analogy_file: Optional[Path] = None, top_n: int = DEFAULT_TOP_N,
                     in_context_files: Sequence[Path] = (), in_context_train_files: Sequence[Path] = ()) -> Dict:
    """{"vectors": {name: {"description", "similarity": {set: ...}, "analogy": ..., "in_context": {set: ...}}}, ...}.
    Every input file is read before any vectors are evaluated, so a bad file fails fast.
    `in_context_train_files`, when given, pair up with `in_context_files` (a threshold
    for labelled pairs is fitted on the training file)."""
    if in_context_train_files and len(in_context_train_files) != len(in_context_files):
        raise UserError(f"{len(in_context_train_files)} in-context training files for {len(in_context_files)} in-context files: give one per file, in order")
    word_pair_sets = [read_word_pairs(path) for path in similarity_files]
    questions = read_analogies(analogy_file) if analogy_file else None
    context_sets = [read_context_pairs(path) for path in in_context_files]
    context_train = [read_context_pairs(path) for path in in_context_train_files] or [None] * len(context_sets)
    for train in filter(None, context_train):
        check_training_pairs(train)
    results: Dict = {"similarity_oov_policy": OOV_POLICY, "analogy_top_n": top_n, "vectors": {}}
    for source in sources:
        entry: Dict = {"kind": source.kind, "description": source.describe(), "similarity": {}, "in_context": {}}
        for pairs in word_pair_sets:
            entry["similarity"][pairs.name] = evaluate_similarity(source, pairs)
        for pairs, train in zip(context_sets, context_train):
            entry["in_context"][pairs.name] = evaluate_in_context(source, pairs, train)
        if questions is not None:
            candidates = source.analogy_candidates(top_n, (word for q in questions for word in q.words))
            entry["analogy"] = evaluate_analogies(candidates, questions)
            entry["analogy"]["candidates_policy"] = source.candidates_policy(top_n)
        results["vectors"][source.name] = entry
    return results


def score_rows(results: Dict, contextual_analogy: bool = False) -> List[tuple]:
    """(metric, {vectors name: value}) for every reported number, in display order.

    Analogy scores of contextual vectors rank only the words of the question file
    (contextual vectors have no vocabulary), static tables rank their `top_n` most
    frequent words: the two are not comparable, so the main rows show n/a for
    contextual sources and `contextual_analogy=True` gives their rows apart."""
    names = list(results["vectors"])
    first = results["vectors"][names[0]] if names else {}
    rows = []
    nan = float("nan")
    if contextual_analogy:
        names = [n for n in names if results["vectors"][n]["kind"] == "contextual" and "analogy" in results["vectors"][n]]
        if not names:
            return []
        for method in ("3CosAdd", "3CosMul"):
            for part in ("semantic", "syntactic", "overall"):
                rows.append((f"analogy {method} {part} {CONTEXTUAL_ANALOGY}", {n: results["vectors"][n]["analogy"][method][part] for n in names}))
        rows.append((f"analogy coverage {CONTEXTUAL_ANALOGY}", {n: results["vectors"][n]["analogy"]["coverage"] for n in names}))
        return rows
    for pair_set in first.get("similarity", {}):
        rows.append((f"{pair_set} rho", {n: results["vectors"][n]["similarity"][pair_set]["spearman"] for n in names}))
        rows.append((f"{pair_set} coverage", {n: results["vectors"][n]["similarity"][pair_set]["coverage"] for n in names}))
    for pair_set, first_result in first.get("in_context", {}).items():
        metric = "accuracy" if first_result["kind"] == "label" else "spearman"
        rows.append((f"{pair_set} {'acc' if metric == 'accuracy' else 'rho'} (in context)", {n: results["vectors"][n]["in_context"][pair_set][metric] for n in names}))
        rows.append((f"{pair_set} coverage", {n: results["vectors"][n]["in_context"][pair_set]["coverage"] for n in names}))
    if "analogy" in first:
        static = {n: results["vectors"][n]["kind"] != "contextual" for n in names}
        for method in ("3CosAdd", "3CosMul"):
            for part in ("semantic", "syntactic", "overall"):
                rows.append((f"analogy {method} {part}", {n: results["vectors"][n]["analogy"][method][part] if static[n] else nan for n in names}))
        rows.append(("analogy coverage", {n: results["vectors"][n]["analogy"]["coverage"] if static[n] else nan for n in names}))
    return rows


def print_results(results: Dict) -> None:
    names = list(results["vectors"])
    for name in names:
        entry = results["vectors"][name]
        msg.info(f"{name}: {entry['description']}" + (f"; {entry['analogy']['candidates_policy']}" if "analogy" in entry else ""))
    rows = [(metric, *(_cell(values[n]) for n in names)) for metric, values in score_rows(results)]
    msg.table(rows, header=("metric", *names), divider=True, aligns=("l", *("r" for _ in names)))
    contextual = score_rows(results, contextual_analogy=True)
    if contextual:
        contextual_names = list(contextual[0][1])
        msg.text("Contextual analogy, a separate table: candidates are only the words of the question file "
                 f"(contextual vectors have no vocabulary), where the static rows above rank {results['analogy_top_n']:,} words: not comparable.")
        msg.table([(metric, *(_cell(values[n]) for n in contextual_names)) for metric, values in contextual],
                  header=("metric", *contextual_names), divider=True, aligns=("l", *("r" for _ in contextual_names)))
    msg.text(f"Similarity: Spearman rho of cosines; {results['similarity_oov_policy']}.")
    if any("analogy" in entry for entry in results["vectors"].values()):
        msg.text("Analogy: accuracy over covered questions (3CosAdd; 3CosMul with epsilon 0.001); a, b, c excluded; "
                 "answers compared ignoring case.")
    if any(entry.get("in_context") for entry in results["vectors"].values()):
        msg.text("In context: cosine of the target word's vectors in the two contexts; labelled pairs: accuracy of a threshold "
                 "fitted on the training file; scored pairs: Spearman rho. Static tables use context-free vectors (a floor).")


def _cell(value: float) -> str:
    return "n/a" if value != value else f"{value:.3f}"


def json_ready(value):
    """JSON has no NaN: an undefined score (nothing covered) becomes null."""
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, float) and value != value:
        return None
    return value
