"""`spacy package` -> wheel -> fresh virtualenv, offline -> `spacy.load` by package name,
from another directory, with the encoder checkpoint the pipeline was trained from gone."""
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from .tiny_pipelines import REPO, tiny_fasttext_vectors, tiny_ner_pipeline, tiny_stacked_ner_pipeline

PACKAGE = "wv_ner_tiny"
STACKED_PACKAGE = "wv_ner_stacked_tiny"


def _run(cmd, **kwargs):
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result


@pytest.fixture(scope="module")
def wheels(tmp_path_factory, data_dir, tiny_encoder_dir, text_slice):
    """The fine-tuned and the stacked (CNN + fastText + frozen encoder) NER pipelines."""
    vectors = tiny_fasttext_vectors(tmp_path_factory, text_slice)
    pipelines = {PACKAGE: tiny_ner_pipeline(tmp_path_factory, data_dir, tiny_encoder_dir),
                 STACKED_PACKAGE: tiny_stacked_ner_pipeline(tmp_path_factory, data_dir, tiny_encoder_dir, vectors)}
    out = tmp_path_factory.mktemp("packages")
    # No index: `python -m build` cannot fetch setuptools for an isolated build, and
    # spacy package falls back to building with the installed setuptools.
    env = {**os.environ, "PIP_NO_INDEX": "1"}
    pipeline_wheels = []
    for name, pipeline in pipelines.items():
        _run([sys.executable, "-m", "spacy", "package", pipeline, out, "--name", name, "--version", "0.0.1",
              "--build", "wheel"], env=env)
        pipeline_wheels.extend(out.glob(f"*/dist/en_{name}-0.0.1-py3-none-any.whl"))
    assert len(pipeline_wheels) == 2
    # Build from a copy, so the build leaves nothing in the working tree.
    source = tmp_path_factory.mktemp("spacy_wv_source")
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source)
    shutil.copytree(REPO / "spacy_wv", source / "spacy_wv", ignore=shutil.ignore_patterns("__pycache__"))
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
          "-w", out, source], env=env)
    (own_wheel,) = out.glob("spacy_wv-*.whl")
    return (*pipeline_wheels, own_wheel)


@pytest.mark.parametrize("index", [0, 1])
def test_wheel_requires_spacy_wv(wheels, index):
    import zipfile

    with zipfile.ZipFile(wheels[index]) as whl:
        metadata = next(whl.read(n).decode() for n in whl.namelist() if n.endswith("METADATA"))
    requirements = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    assert any("spacy_wv" in line or "spacy-wv" in line for line in requirements)
    # The fine-tuned pipeline runs spacy-transformers; the stacked one needs only spacy_wv.
    assert any("spacy-transformers" in line for line in requirements) == (index == 0)


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
        f"nlp = spacy.load('en_{PACKAGE}'); stacked = spacy.load('en_{STACKED_PACKAGE}'); "
        "text = 'EU rejects German call to boycott British lamb.'; doc = nlp(text); sdoc = stacked(text); "
        "print(sys.modules['spacy_wv'].__file__); print(nlp.pipe_names, len(doc), -1 <= doc[2].similarity(doc[6]) < 0.99); "
        "print(stacked.pipe_names, sdoc.tensor.shape, stacked.vocab.vectors.shape[1], -1 <= sdoc[2].similarity(sdoc[6]) < 0.99)"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = _run([python, "-c", script], cwd=elsewhere, env={**env, "HF_HUB_OFFLINE": "1"})
    spacy_wv_file, summary, stacked_summary = result.stdout.strip().splitlines()[-3:]
    assert spacy_wv_file.startswith(str(venv))
    assert summary == "['transformer', 'ner', 'wv_vectors'] 9 True"
    # The encoder and the fastText vectors travel inside the stacked package; its
    # wv_vectors reads the frozen encoder's features (64 wide) that the tok2vec left.
    assert stacked_summary == "['tok2vec', 'ner', 'wv_vectors'] (9, 64) 16 True"
