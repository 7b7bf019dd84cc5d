from pathlib import Path
from typing import List

import typer
from wasabi import msg

from ._app import app

SYSTEM_HELP = "NAME,EVAL_JSON[,TRAINING_STATS_JSON] (repeatable)"


@app.command("report")
def report_cli(
    output_dir: Path = typer.Argument(..., help="Writes metrics.json and metrics.md here"),
    ner: List[str] = typer.Option([], "--ner", help=SYSTEM_HELP),
    textcat: List[str] = typer.Option([], "--textcat", help=SYSTEM_HELP),
) -> None:
    """Metrics JSON + markdown table from `spacy evaluate --output` files and the training
    stats written by spacy_wv.TimedConsoleLogger.v1."""
    from ..report import build_metrics, check_report_dir, metrics_markdown, parse_system, system_files, write_report

    ner_systems, textcat_systems = [parse_system(s) for s in ner], [parse_system(s) for s in textcat]
    inputs = system_files(ner_systems + textcat_systems)
    check_report_dir(output_dir, inputs)
    metrics = build_metrics(ner=ner_systems, textcat=textcat_systems)
    json_path, md_path = write_report(output_dir, metrics, inputs)
    print(metrics_markdown(metrics))
    msg.good(f"Wrote {json_path} and {md_path}")
