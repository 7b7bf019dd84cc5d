"""spaCy's console logger, plus a JSON file with training time and throughput, so that
reports can give training minutes (spaCy's own logs record no time)."""
import json
import sys
from pathlib import Path
from typing import Optional

from spacy.training.loggers import console_logger_v3
from spacy.util import registry


@registry.loggers("spacy_wv.TimedConsoleLogger.v1")
def timed_console_logger(stats_path: Optional[Path] = None, progress_bar: Optional[str] = None,
                         console_output: bool = True, output_file: Optional[Path] = None):
    """`stats_path` (if set) is rewritten at every evaluation with the elapsed training
    seconds (model loading and initialization excluded), steps, words and best score."""
    console = console_logger_v3(progress_bar=progress_bar, console_output=console_output, output_file=output_file)

    def setup(nlp, stdout=sys.stdout, stderr=sys.stderr):
        log_step, finalize = console(nlp, stdout, stderr)
        best = {"score": None}

        def timed_log_step(info):
            log_step(info)
            if info is None or stats_path is None:
                return
            if best["score"] is None or info["score"] > best["score"]:
                best["score"] = float(info["score"])
            stats = {"seconds": info["seconds"], "steps": info["step"], "words": info["words"],
                     "best_score": best["score"]}
            path = Path(stats_path)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(stats, indent=2))

        return timed_log_step, finalize

    return setup
