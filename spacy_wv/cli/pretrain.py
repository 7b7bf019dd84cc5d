from pathlib import Path

import typer

from ._app import OVERRIDES_SETTINGS, app


@app.command("pretrain", context_settings=OVERRIDES_SETTINGS)
def pretrain_cli(
    ctx: typer.Context,
    config_path: Path = typer.Argument(..., help="Pretraining config (.cfg), e.g. configs/pretrain_mlm.cfg"),
    output_dir: Path = typer.Argument(..., help="Output: a Hugging Face model dir, plus trainer_state/ for resuming"),
    allow_config_change: bool = typer.Option(False, "--allow-config-change", help="Resume even if the config, or the weights of [paths] init_from, changed since the checkpoint"),
):
    """Pretrain a Transformer encoder on token shards (resumable; DDP under torchrun).

    Running it again on the same OUTPUT_DIR resumes from the latest checkpoint. Config
    overrides as in `spacy train`: --training.max_steps 100. For DDP:
    torchrun --nproc_per_node N -m spacy_wv pretrain CONFIG OUTPUT_DIR
    """
    from spacy.cli._util import parse_config_overrides

    from ..pretraining.config import load_pretrain_config, resolve_settings
    from ..pretraining.loop import pretrain

    overrides = parse_config_overrides(ctx.args)
    settings = resolve_settings(load_pretrain_config(config_path, overrides))
    pretrain(settings, output_dir, allow_config_change=allow_config_change)
