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


# Both packages run their encoder in int8: quantizing happens when a pipeline loads, so
# setting it in a trained pipeline's config is all that packaging int8 takes.
QUANTIZE_SETTING = {PACKAGE: ("transformer", "model"), STACKED_PACKAGE: ("tok2vec", "model", "features")}


def int8_copy(pipeline: Path, out: Path, component_path) -> Path:
    from spacy.util import load_config

    shutil.copytree(pipeline, out)
    config = load_config(out / "config.cfg", interpolate=False)
    section = config["components"]
    for key in component_path:
        section = section[key]
    section["quantize"] = "int8"
    config.to_disk(out / "config.cfg")
    return out


@pytest.fixture(scope="module")
def wheels(tmp_path_factory, data_dir, tiny_encoder_dir, text_slice):
    """The fine-tuned and the stacked (CNN + fastText + frozen encoder) NER pipelines, int8."""
    vectors = tiny_fasttext_vectors(tmp_path_factory, text_slice)
    trained = {PACKAGE: tiny_ner_pipeline(tmp_path_factory, data_dir, tiny_encoder_dir),
               STACKED_PACKAGE: tiny_stacked_ner_pipeline(tmp_path_factory, data_dir, tiny_encoder_dir, vectors)}
    copies = tmp_path_factory.mktemp("int8")
    pipelines = {name: int8_copy(path, copies / name, QUANTIZE_SETTING[name]) for name, path in trained.items()}
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
        "print(stacked.pipe_names, sdoc.tensor.shape, stacked.vocab.vectors.shape[1], -1 <= sdoc[2].similarity(sdoc[6]) < 0.99); "
        "int8 = lambda torch_model: sum(type(m).__module__.endswith('quantized.dynamic.modules.linear') for m in torch_model.modules()); "
        "print(int8(nlp.get_pipe('transformer').model.transformer), int8(stacked.get_pipe('tok2vec').model.get_ref('features').shims[0]._model)); "
        "texts = ['', 'EU', ' '.join([text] * 400), '   ']; "
        "print([len(d) for d in nlp.pipe(texts, batch_size=2)], [len(d) for d in stacked.pipe(texts, batch_size=2)])"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = _run([python, "-c", script], cwd=elsewhere, env={**env, "HF_HUB_OFFLINE": "1"})
    spacy_wv_file, summary, stacked_summary, quantized, lengths = result.stdout.strip().splitlines()[-5:]
    assert spacy_wv_file.startswith(str(venv))
    # Every Linear of the tiny BERT: 6 in each of its two layers, and the pooler.
    assert quantized == "13 13"
    assert lengths == "[0, 1, 3600, 1] [0, 1, 3600, 1]"
    assert summary == "['transformer', 'ner', 'wv_vectors'] 9 True"
    # The encoder and the fastText vectors travel inside the stacked package; its
    # wv_vectors reads the frozen encoder's features (64 wide) that the tok2vec left.
    assert stacked_summary == "['tok2vec', 'ner', 'wv_vectors'] (9, 64) 16 True"
