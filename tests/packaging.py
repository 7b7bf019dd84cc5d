"""What the packaging tests share: `spacy package` a trained pipeline into a wheel, and one
fresh virtualenv for the whole session (the `fresh_venv` fixture of tests/conftest.py)
that holds our own wheel and into which each test installs its pipeline wheels: building
the venv and our wheel once keeps the packaging tests from multiplying that time."""
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import List

REPO = Path(__file__).resolve().parent.parent
# No index: `python -m build` cannot fetch setuptools for an isolated build, and
# spacy package falls back to building with the installed setuptools.
OFFLINE = {**os.environ, "PIP_NO_INDEX": "1"}


def run(cmd, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result


def package(pipeline: Path, out: Path, name: str, lang: str) -> Path:
    """`spacy package PIPELINE OUT --name NAME --build wheel`: the wheel of `{lang}_{name}`."""
    out.mkdir(parents=True, exist_ok=True)
    run([sys.executable, "-m", "spacy", "package", pipeline, out, "--name", name, "--version", "0.0.1",
         "--build", "wheel", "--force"], env=OFFLINE)
    (wheel,) = out.glob(f"*/dist/{lang}_{name}-0.0.1-py3-none-any.whl")
    return wheel


def build_own_wheel(out: Path) -> Path:
    """spacy_wv's wheel, built from a copy so that the build leaves nothing in the working tree."""
    source = out / "source"
    source.mkdir(parents=True)
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source)
    shutil.copytree(REPO / "spacy_wv", source / "spacy_wv", ignore=shutil.ignore_patterns("__pycache__"))
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
         "-w", out, source], env=OFFLINE)
    (wheel,) = out.glob("spacy_wv-*.whl")
    return wheel


class FreshVenv:
    """A virtualenv with spacy_wv installed from its wheel, not from this working tree."""

    def __init__(self, root: Path, own_wheel: Path):
        self.root, self.own_wheel = root, own_wheel
        self.python = root / "bin" / "python"
        run([sys.executable, "-m", "venv", "--without-pip", root])
        site = Path(run([self.python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
        # The heavy dependencies (torch, spaCy, jieba, ...) come from this environment's
        # site-packages; a plain path in a .pth file does not run that directory's own .pth
        # files, so the editable spacy_wv there stays invisible and the installed wheel is
        # what gets imported.
        (site / "main_env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
        self.install(own_wheel)

    def install(self, *wheels: Path) -> None:
        run([sys.executable, "-m", "pip", "--python", self.python, "install", "--no-index", "--no-deps", "-q", *wheels])

    def run_script(self, script: str, cwd: Path) -> List[str]:
        """The lines `script` printed, run offline from `cwd` (not the repository)."""
        cwd.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        return run([self.python, "-c", script], cwd=cwd, env={**env, "HF_HUB_OFFLINE": "1"}).stdout.strip().splitlines()
