"""Build the GPU kit here, on CPU: everything one call on the lent H200 machine needs.

    python benchmarks/gpu/prepare.py              # the full kit in .gpu_kit/ (about 45 MB)
    python benchmarks/gpu/prepare.py --check      # which packages travel, resolved against h200_packages.txt
    python benchmarks/gpu/prepare.py --tiny --kit DIR   # a toy kit (no wheels) for `run.py --tiny`

The kit (an ignored folder, carried by the device tool's `carry`):
- `site.tar.xz`: the packages our code imports that the machine lacks or has at versions
  our pins refuse (spaCy and its compiled dependencies, spacy-transformers, transformers
  4.x with its tokenizers and huggingface-hub), unpacked from cp312 manylinux wheels,
  with tests, Cython sources and debug symbols left out, plus a dist-info for spacy_wv
  that carries our entry points (so spaCy finds `spacy_wv.*` without installing us). The
  machine's own torch, numpy, safetensors and accelerate are used as they are. gensim,
  jieba and matplotlib are left behind: only paths the kit does not run import them.
- `text.tar.xz`: the English pretraining text (project.yml's `raw_text` folders), encoded
  to token shards there, on 16 cores.
- `tokenizer/`: the cased 16k WordPiece tokenizer `all` trains, trained on that text here.
- `data/`: CoNLL-2003 and SST-2 train/dev as `.spacy` files.
"""
import argparse
import configparser
import importlib.metadata as metadata
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from packaging.requirements import Requirement
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
MACHINE_PACKAGES = Path(__file__).with_name("h200_packages.txt")
DEFAULT_KIT = REPO / ".gpu_kit"
# Imported only by paths the kit does not run (warm start, fastText, Chinese, plots).
LAZY = {"gensim", "jieba", "matplotlib"}
# The machine's own build (CUDA); a carried one would be several GB.
MACHINE_ONLY = {"torch"}
RAW_TEXT = ["wikipedia_en", "reuters21578", "gutenberg", "brown", "us_speeches"]  # project.yml vars.raw_text
MACHINE_PYTHON = "3.12"
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_24_x86_64", "manylinux_2_17_x86_64",
             "manylinux2014_x86_64", "manylinux1_x86_64"]
# Not needed to run, and the bulk of what compresses worst.
TRIM_DIRS = {"tests", "__pycache__"}
TRIM_SUFFIXES = {".pyx", ".pxd", ".pxi", ".cpp", ".c", ".h", ".hpp"}


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def required_distributions(root: str = "spacy_wv", skip=frozenset(LAZY)) -> Dict[str, Tuple[str, List[Tuple[str, Requirement]]]]:
    """Every distribution `root` needs, transitively (no extras), as installed here:
    name -> (installed version, [(required by, requirement)]). What only `skip` needs is left out."""
    found: Dict[str, Tuple[str, List[Tuple[str, Requirement]]]] = {}
    pending = [(root, None, None)]
    while pending:
        name, parent, requirement = pending.pop()
        key = normalize(name)
        if key in skip:
            continue
        if key not in found:
            try:
                dist = metadata.distribution(name)
            except metadata.PackageNotFoundError:
                found[key] = ("", [])
            else:
                found[key] = (dist.version, [])
                for line in dist.requires or []:
                    req = Requirement(line)
                    if req.marker is None or req.marker.evaluate({"extra": "", "python_version": MACHINE_PYTHON}):
                        pending.append((req.name, key, req))
        if parent is not None:
            found[key][1].append((parent, requirement))
    return found


def machine_packages(path: Path = MACHINE_PACKAGES) -> Dict[str, Optional[str]]:
    """name -> version (None where the list names no version)."""
    packages: Dict[str, Optional[str]] = {}
    for line in path.read_text(encoding="utf8").splitlines():
        fields = line.split("#", 1)[0].split()
        if fields:
            packages[normalize(fields[0])] = fields[1] if len(fields) > 1 else None
    return packages


def plan_packages(required, machine) -> Tuple[Dict[str, str], List[Tuple[str, str, str, str]], List[str]]:
    """Which packages travel. Returns (carry: name -> version, table rows, problems)."""
    carry: Dict[str, str] = {}
    rows, problems = [], []
    for name, (local, needed_by) in sorted(required.items()):
        if name == normalize("spacy_wv"):
            continue
        specs = [req.specifier for _, req in needed_by]
        on_machine, there = name in machine, machine.get(name)
        if on_machine and there is None:
            rows.append((name, "(version not listed)", "-", "the machine's"))
            continue
        if on_machine and all(spec.contains(Version(there), prereleases=True) for spec in specs):
            rows.append((name, there, "-", "the machine's"))
            continue
        if name in MACHINE_ONLY:
            problems.append(f"{name}: the machine has {there or 'none'}, our requirements ask for "
                            f"{', '.join(str(s) for s in specs)}, and it cannot be carried.")
            continue
        if not local:
            problems.append(f"{name}: not installed here, so no version to carry (needed by {', '.join(p for p, _ in needed_by)}).")
            continue
        bad = [str(s) for s in specs if not s.contains(Version(local), prereleases=True)]
        if bad:
            problems.append(f"{name} {local} (installed here) does not meet {', '.join(bad)}.")
        carry[name] = local
        why = f"our pins: {','.join(str(s) for s in specs if str(s))}" if on_machine else "missing there"
        rows.append((name, there or "missing", local, why))
    return carry, rows, problems


def download_wheels(carry: Dict[str, str], dest: Path) -> List[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
               "--python-version", MACHINE_PYTHON, "--implementation", "cp", "-d", str(dest)]
    for platform in PLATFORMS:
        command += ["--platform", platform]
    subprocess.run(command + [f"{name}=={version}" for name, version in sorted(carry.items())], check=True)
    wheels = sorted(dest.glob("*.whl"))
    have = {normalize(w.name.split("-")[0]) for w in wheels}
    missing = sorted(set(carry) - have)
    if missing:
        raise SystemExit(f"pip downloaded no wheel for: {', '.join(missing)}")
    return wheels


def spacy_wv_dist_info(site: Path) -> None:
    """A dist-info holding setup.cfg's entry points: spaCy's registries find our
    functions and factories through them, while the code itself comes from the repo."""
    from spacy_wv.about import __version__

    parser = configparser.ConfigParser()
    parser.read(REPO / "setup.cfg")
    groups = parser["options.entry_points"]
    info = site / f"spacy_wv-{__version__}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: spacy_wv\nVersion: {__version__}\n", encoding="utf8")
    (info / "entry_points.txt").write_text(
        "".join(f"[{group}]\n{groups[group].strip()}\n\n" for group in groups), encoding="utf8")


def build_site(wheels: List[Path], out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        for wheel in wheels:
            with zipfile.ZipFile(wheel) as archive:
                archive.extractall(site)
        for path in sorted(site.rglob("*"), reverse=True):
            if path.is_dir() and path.name in TRIM_DIRS:
                shutil.rmtree(path)
            elif path.is_file() and path.suffix in TRIM_SUFFIXES:
                path.unlink()
        strip = shutil.which("strip")
        if strip:
            for library in site.rglob("*.so"):
                subprocess.run([strip, "--strip-unneeded", str(library)], check=True)
        spacy_wv_dist_info(site)
        write_tar_xz(out, [(site, ".")])


def write_tar_xz(out: Path, members: List[Tuple[Path, str]]) -> None:
    partial = out.with_name(out.name + ".partial")
    with tarfile.open(partial, "w:xz", preset=6) as archive:
        for path, arcname in members:
            archive.add(path, arcname=arcname)
    partial.replace(out)


def tiny_text(data_dir: Path, dest: Path) -> List[Tuple[Path, str]]:
    """About 600 KB of the same sources, for the toy kit."""
    dest.mkdir(parents=True, exist_ok=True)
    for source in (data_dir / "wikipedia_en" / "wiki_en_000.txt", data_dir / "reuters21578" / "reut2-000.txt"):
        text = source.read_text(encoding="utf8")[:300_000]
        (dest / source.name).write_text(text[:text.rfind("\n\n")] + "\n", encoding="utf8")
    return [(dest, "text")]


def convert_task_data(data_dir: Path, dest: Path, tiny: bool) -> None:
    from spacy_wv.corpus.conll import convert_conll
    from spacy_wv.corpus.labeled_text import convert_labeled_text, parse_label_map

    dest.mkdir(parents=True, exist_ok=True)
    names = parse_label_map("0=negative,1=positive")
    convert_conll(data_dir / "conll2003" / "eng.train", dest / "conll_train.spacy", max_docs=20 if tiny else None)
    convert_conll(data_dir / "conll2003" / "eng.testa", dest / "conll_dev.spacy", max_docs=4 if tiny else None)
    convert_labeled_text(data_dir / "sst2" / "train.txt", dest / "sst2_train.spacy", label_map=names, max_docs=300 if tiny else None)
    convert_labeled_text(data_dir / "sst2" / "dev.txt", dest / "sst2_dev.spacy", label_map=names, max_docs=100 if tiny else None)


def size_mb(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 2**20


def prepare(kit: Path, data_dir: Path, tiny: bool) -> Dict[str, float]:
    from spacy_wv.corpus.tokenizer_training import train_tokenizer

    if kit.exists():
        if not (kit / "kit.json").is_file():
            raise SystemExit(f"{kit} exists and is not a GPU kit (no kit.json); choose another --kit.")
        shutil.rmtree(kit)
    kit.mkdir(parents=True)
    sizes: Dict[str, float] = {}
    if not tiny:
        carry, _, problems = plan_packages(required_distributions(), machine_packages())
        if problems:
            raise SystemExit("The packages do not resolve against the machine's list:\n" + "\n".join(problems))
        with tempfile.TemporaryDirectory() as tmp:
            build_site(download_wheels(carry, Path(tmp) / "wheels"), kit / "site.tar.xz")
        sizes["site.tar.xz"] = size_mb(kit / "site.tar.xz")
    with tempfile.TemporaryDirectory() as tmp:
        if tiny:
            members = tiny_text(data_dir, Path(tmp) / "text")
        else:
            members = [(data_dir / folder, f"text/{folder}") for folder in RAW_TEXT]
        train_tokenizer([path for path, _ in members], kit / "tokenizer", kind="wordpiece",
                        vocab_size=2000 if tiny else 16000, lowercase=False)
        write_tar_xz(kit / "text.tar.xz", members)
    sizes["text.tar.xz"] = size_mb(kit / "text.tar.xz")
    sizes["tokenizer/"] = size_mb(kit / "tokenizer")
    convert_task_data(data_dir, kit / "data", tiny)
    sizes["data/"] = size_mb(kit / "data")
    (kit / "kit.json").write_text(json.dumps({"tiny": tiny, "sizes_mb": sizes}, indent=2), encoding="utf8")
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kit", type=Path, default=DEFAULT_KIT)
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--tiny", action="store_true", help="a toy kit without wheels, for `run.py --tiny`")
    parser.add_argument("--check", action="store_true", help="only resolve the packages against h200_packages.txt")
    args = parser.parse_args()
    from wasabi import msg

    if args.check:
        carry, rows, problems = plan_packages(required_distributions(), machine_packages())
        msg.table(rows, header=("package", "on the machine", "carried", "why"), divider=True)
        for problem in problems:
            msg.fail(problem)
        if problems:
            sys.exit(1)
        msg.good(f"{len(carry)} packages travel; everything else comes from the machine.")
        return
    sizes = prepare(args.kit, args.data_dir, args.tiny)
    msg.table([(part, f"{mb:.1f}") for part, mb in sizes.items()] + [("total", f"{sum(sizes.values()):.1f}")],
              header=("part", "MB"), divider=True, aligns=("l", "r"))
    msg.good(f"GPU kit in {args.kit}")


if __name__ == "__main__":
    main()
