"""A grouped bar chart comparing vector sets on every score."""
from pathlib import Path
from typing import Dict

import numpy

from .evaluate import score_rows


def plot_results(results: Dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [(metric, values) for metric, values in score_rows(results) if not metric.endswith("coverage")]
    names = list(results["vectors"])
    if not rows or not names:
        return
    positions = numpy.arange(len(rows))
    bar_width = 0.8 / len(names)
    figure, axes = plt.subplots(figsize=(max(6.0, 1.1 * len(rows) + 2), 4.5))
    for i, name in enumerate(names):
        heights = [values[name] for _, values in rows]
        bars = axes.bar(positions + (i - (len(names) - 1) / 2) * bar_width, numpy.nan_to_num(heights), bar_width, label=name)
        axes.bar_label(bars, labels=["n/a" if numpy.isnan(h) else f"{h:.2f}" for h in heights], fontsize=7, padding=2)
    axes.set_xticks(positions)
    axes.set_xticklabels([metric for metric, _ in rows], rotation=30, ha="right", fontsize=8)
    axes.axhline(0, color="black", linewidth=0.6)
    axes.set_ylabel("Spearman rho / accuracy")
    axes.set_title("Word vector evaluation")
    axes.margins(y=0.12)  # room for the value labels
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))  # outside: never hides a bar
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
