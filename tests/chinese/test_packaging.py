"""The trained Chinese pipeline as a wheel: installs offline in a fresh virtualenv and
loads by name there (spaCy's zh tokenizer, our architectures through entry points)."""
import os
import shutil
import sys
import sysconfig
from pathlib import Path

from ..project.test_packaging import _run

REPO = Path(__file__).resolve().parents[2]
PACKAGE = "wv_weibo_tiny"


def test_chinese_pipeline_wheel_loads_offline_in_a_fresh_venv(weibo_ner_pipeline, tmp_path):
    env = {**os.environ, "PIP_NO_INDEX": "1"}
    out = tmp_path / "packages"
    out.mkdir()
    _run([sys.executable, "-m", "spacy", "package", weibo_ner_pipeline, out, "--name", PACKAGE, "--version", "0.0.1",
          "--build", "wheel"], env=env)
    (pipeline_wheel,) = out.glob(f"*/dist/zh_{PACKAGE}-0.0.1-py3-none-any.whl")
    source = tmp_path / "source"
    source.mkdir()
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source)
    shutil.copytree(REPO / "spacy_wv", source / "spacy_wv", ignore=shutil.ignore_patterns("__pycache__"))
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", out, source], env=env)
    (own_wheel,) = out.glob("spacy_wv-*.whl")

    venv = tmp_path / "fresh"
    _run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    # torch, spaCy, jieba, ... from this environment (see tests/project/test_packaging.py).
    (site / "main_env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-index", "--no-deps", "-q", pipeline_wheel, own_wheel])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = (f"import sys, spacy; nlp = spacy.load('zh_{PACKAGE}'); doc = nlp('国家主席习近平在北京会见法国总统。'); "
              "print(sys.modules['spacy_wv'].__file__); print(nlp.lang, nlp.pipe_names, len(doc))")
    clean_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = _run([python, "-c", script], cwd=elsewhere, env={**clean_env, "HF_HUB_OFFLINE": "1"})
    spacy_wv_file, summary = result.stdout.strip().splitlines()[-2:]
    assert spacy_wv_file.startswith(str(venv))
    assert summary == "zh ['transformer', 'ner'] 17"
