"""Importing spacy_wv (what loading one of our pipelines does) leaves the process's
Hugging Face settings alone; our own CLI turns the hub off."""
import os
import subprocess
import sys


def _environ_after(code: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    result = subprocess.run([sys.executable, "-c", code + "; import os; print(os.environ.get('HF_HUB_OFFLINE'))"],
                            capture_output=True, text=True, env=env, check=True)
    return result.stdout.strip().splitlines()[-1]


def test_importing_the_package_and_its_components_keeps_the_hub_settings():
    assert _environ_after("import spacy_wv, spacy_wv.pipeline.vectors, spacy_wv.layers.encoder_features") == "None"


def test_the_cli_runs_offline():
    assert _environ_after("import spacy_wv.cli") == "1"


def test_importing_the_package_keeps_the_excepthook_outside_spacys_cli():
    code = "import sys; before = sys.excepthook; import spacy_wv; print(sys.excepthook is before)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "True"
