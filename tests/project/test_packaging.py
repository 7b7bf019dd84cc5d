"""`spacy package` -> wheel -> fresh virtualenv, offline -> `spacy.load` by package name,
from another directory, with the encoder checkpoint the pipeline was trained from gone."""
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from .tiny_pipelines import REPO, tiny_ner_pipeline

PACKAGE = "wv_ner_tiny"


def _run(cmd, **kwargs):
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result


@pytest.fixture(scope="module")
def wheels(tmp_path_factory, data_dir, tiny_encoder_dir):
    pipeline = tiny_ner_pipeline(tmp_path_factory, data_dir, tiny_encoder_dir)
    out = tmp_path_factory.mktemp("packages")
    # No index: `python -m build` cannot fetch setuptools for an isolated build, and
    # spacy package falls back to building with the installed setuptools.
    env = {**os.environ, "PIP_NO_INDEX": "1"}
    _run([sys.executable, "-m", "spacy", "package", pipeline, out, "--name", PACKAGE, "--version", "0.0.1",
          "--build", "wheel"], env=env)
    (pipeline_wheel,) = out.glob(f"*/dist/en_{PACKAGE}-0.0.1-py3-none-any.whl")
    # Build from a copy, so the build leaves nothing in the working tree.
    source = tmp_path_factory.mktemp("spacy_wv_source")
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source)
    shutil.copytree(REPO / "spacy_wv", source / "spacy_wv", ignore=shutil.ignore_patterns("__pycache__"))
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
          "-w", out, source], env=env)
    (own_wheel,) = out.glob("spacy_wv-*.whl")
    return pipeline_wheel, own_wheel


def test_wheel_requires_spacy_wv(wheels):
    import zipfile

    with zipfile.ZipFile(wheels[0]) as whl:
        metadata = next(whl.read(n).decode() for n in whl.namelist() if n.endswith("METADATA"))
    requirements = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    assert any("spacy_wv" in line or "spacy-wv" in line for line in requirements)
    assert any("spacy-transformers" in line for line in requirements)


def test_installs_offline_and_loads_by_name_in_a_fresh_venv(wheels, tmp_path):
    venv = tmp_path / "fresh"
    _run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    # The heavy dependencies (torch, spaCy, ...) come from this environment's site-packages;
    # a plain path in a .pth file does not run that directory's own .pth files, so the
    # editable spacy_wv there stays invisible and the installed wheel is what gets imported.
    (site / "main_env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-index", "--no-deps", "-q", *wheels])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # No `import spacy_wv`: spaCy must find our architectures through the entry points.
    script = (
        "import sys, spacy; "
        f"nlp = spacy.load('en_{PACKAGE}'); "
        "doc = nlp('EU rejects German call to boycott British lamb.'); "
        "print(sys.modules['spacy_wv'].__file__); print(nlp.pipe_names, len(doc), -1 <= doc[2].similarity(doc[6]) < 0.99)"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = _run([python, "-c", script], cwd=elsewhere, env={**env, "HF_HUB_OFFLINE": "1"})
    spacy_wv_file, summary = result.stdout.strip().splitlines()[-2:]
    assert spacy_wv_file.startswith(str(venv))
    assert summary == "['transformer', 'ner', 'wv_vectors'] 9 True"
