from pathlib import Path

import typer
from wasabi import msg

from ._app import app


@app.command("quantize")
def quantize_cli(
    pipeline_dir: Path = typer.Argument(..., help="A trained pipeline (e.g. training/ner/model-best)"),
    output_dir: Path = typer.Argument(..., help="Writes the copy here (for `spacy package`)"),
    quantize: str = typer.Option("int8", "--quantize", help="int8, or none for fp32"),
) -> None:
    """Copy a trained pipeline so that its encoder runs in int8 once loaded (CPU; the
    weights stay fp32 safetensors), or with --quantize none in fp32."""
    from ..quantized_pipeline import write_quantized_copy

    precision = None if quantize.lower() in ("none", "null", "fp32") else quantize
    write_quantized_copy(pipeline_dir, output_dir, precision)
    msg.good(f"Wrote {output_dir}: its encoder runs in {precision or 'fp32'} when loaded")
