"""Results a user can read: `spacy evaluate` JSONs + training stats -> metrics JSON and a
markdown table (NER P/R/F overall and per entity type; textcat accuracy and macro F;
words per second; training minutes)."""
import json
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from .errors import UserError
from .outputs import LegacyFiles, atomic_output_dir, check_output_dir, claim_output_dir

METRICS_JSON = "metrics.json"
METRICS_MD = "metrics.md"
# A report written before output markers.
LEGACY_REPORT_FILES = LegacyFiles({METRICS_JSON, METRICS_MD})

System = Tuple[str, Path, Optional[Path]]


def parse_system(spec: str) -> System:
    """`NAME,EVAL_JSON[,TRAINING_STATS_JSON]` -> (name, eval path, stats path or None)."""
    parts = [part.strip() for part in spec.split(",")]
    if len(parts) not in (2, 3) or not all(parts):
        raise UserError(f"Bad system {spec!r}: expected NAME,EVAL_JSON[,TRAINING_STATS_JSON]")
    return parts[0], Path(parts[1]), Path(parts[2]) if len(parts) == 3 else None


def _read_json(path: Path, what: str) -> dict:
    if not Path(path).is_file():
        raise UserError(f"{what} not found: {path}")
    try:
        found = json.loads(Path(path).read_text(encoding="utf8"))
    except ValueError as err:  # bad JSON, or not UTF-8
        raise UserError(f"{what} is not valid JSON: {path} ({' '.join(str(err).split())})") from None
    if not isinstance(found, dict):
        raise UserError(f"{what} is not a JSON object: {path} (found a {type(found).__name__})")
    return found


def _training_minutes(stats_path: Optional[Path]) -> Optional[float]:
    if stats_path is None:
        return None
    seconds = _read_json(stats_path, "Training stats").get("seconds")
    if not isinstance(seconds, (int, float)):
        raise UserError(f"Training stats {stats_path} has no number 'seconds': was it written by spacy_wv.TimedConsoleLogger.v1?")
    return round(seconds / 60, 2)


def ner_metrics(evaluation: dict) -> dict:
    if "ents_f" not in evaluation:
        raise UserError("NER evaluation has no 'ents_f': was it made by `spacy evaluate` on a pipeline with ner?")
    return {
        "precision": evaluation["ents_p"], "recall": evaluation["ents_r"], "f": evaluation["ents_f"],
        "per_type": {label: {"precision": s["p"], "recall": s["r"], "f": s["f"]}
                     for label, s in sorted((evaluation.get("ents_per_type") or {}).items())},
        "words_per_second": evaluation.get("speed"),
    }


def textcat_metrics(evaluation: dict) -> dict:
    if "cats_macro_f" not in evaluation:
        raise UserError("Textcat evaluation has no 'cats_macro_f': was it made by `spacy evaluate` on a pipeline with textcat?")
    # With exclusive classes every doc has one gold and one predicted label, so
    # micro P = micro R = micro F = accuracy.
    return {
        "accuracy": evaluation["cats_micro_f"], "macro_f": evaluation["cats_macro_f"],
        "per_label_f": {label: s["f"] for label, s in sorted((evaluation.get("cats_f_per_type") or {}).items())},
        "words_per_second": evaluation.get("speed"),
    }


def build_metrics(ner: Sequence[System] = (), textcat: Sequence[System] = ()) -> Dict[str, Dict[str, dict]]:
    if not ner and not textcat:
        raise UserError("Nothing to report: give at least one --ner or --textcat system")
    metrics: Dict[str, Dict[str, dict]] = {"ner": {}, "textcat": {}}
    for task, systems, extract in (("ner", ner, ner_metrics), ("textcat", textcat, textcat_metrics)):
        for name, eval_path, stats_path in systems:
            try:
                row = extract(_read_json(eval_path, f"{task} evaluation"))
            except UserError as err:
                raise UserError(f"{eval_path}: {err}") from None
            except (KeyError, TypeError, AttributeError) as err:
                raise UserError(f"{task} evaluation {eval_path} lacks a field or has one of the wrong type ({err!r}): "
                                f"write it with `spacy evaluate ... --output`") from None
            row["training_minutes"] = _training_minutes(stats_path)
            metrics[task][name] = row
    return metrics


def _pct(value: Optional[float]) -> str:
    return "" if value is None else f"{100 * value:.2f}"


def _num(value: Optional[float]) -> str:
    return "" if value is None else f"{value:,.0f}" if value >= 100 else f"{value:.2f}"


def _table(header: List[str], rows: List[List[str]]) -> List[str]:
    return ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"] + [
        "| " + " | ".join(row) + " |" for row in rows]


def metrics_markdown(metrics: Dict[str, Dict[str, dict]]) -> str:
    lines: List[str] = []
    if metrics["ner"]:
        lines += ["## NER (dev)", ""]
        lines += _table(["system", "P", "R", "F", "words/s", "training min"], [
            [name, _pct(m["precision"]), _pct(m["recall"]), _pct(m["f"]), _num(m["words_per_second"]),
             _num(m["training_minutes"])] for name, m in metrics["ner"].items()])
        lines += ["", "### Per entity type", ""]
        lines += _table(["system", "type", "P", "R", "F"], [
            [name, label, _pct(s["precision"]), _pct(s["recall"]), _pct(s["f"])]
            for name, m in metrics["ner"].items() for label, s in m["per_type"].items()])
        lines.append("")
    if metrics["textcat"]:
        lines += ["## Text classification (dev)", ""]
        lines += _table(["system", "accuracy", "macro F", "words/s", "training min"], [
            [name, _pct(m["accuracy"]), _pct(m["macro_f"]), _num(m["words_per_second"]), _num(m["training_minutes"])]
            for name, m in metrics["textcat"].items()])
        lines.append("")
    return "\n".join(lines)


def system_files(systems: Sequence[System]) -> List[Path]:
    """The files a report reads: each system's evaluation and training stats."""
    return [path for _, eval_path, stats_path in systems for path in (eval_path, stats_path) if path is not None]


def check_report_dir(output_dir: Path, inputs: Sequence[Path] = ()) -> None:
    """Run before reading any input: the report goes to a new or empty directory or
    replaces an earlier report, and is none of the `inputs`."""
    check_output_dir(output_dir, "report", LEGACY_REPORT_FILES, inputs)


def write_report(output_dir: Path, metrics: Dict[str, Dict[str, dict]], inputs: Sequence[Path] = ()) -> Tuple[Path, Path]:
    output_dir = Path(output_dir)
    with claim_output_dir(output_dir, "report", inputs, LEGACY_REPORT_FILES), atomic_output_dir(output_dir, kind="report") as tmp_dir:
        (tmp_dir / METRICS_JSON).write_text(json.dumps(metrics, indent=2), encoding="utf8")
        (tmp_dir / METRICS_MD).write_text(metrics_markdown(metrics), encoding="utf8")
    return output_dir / METRICS_JSON, output_dir / METRICS_MD
