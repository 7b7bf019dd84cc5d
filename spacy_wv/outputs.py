"""The rule every command that writes follows, so that no command destroys a user's files.

A command writes only into a directory that does not exist, is empty, or holds its own
kind of output, recognised by a marker file (`.spacy_wv-KIND`) that only that command
writes. Anything else is refused, `--overwrite` or not, with a message naming what is
there. The check runs before any work starts. Writes are atomic: a temporary sibling is
filled and renamed over the output, so an interrupted command (an error, Ctrl-C,
SIGTERM) leaves the old output as it was and no temporary directory behind.
"""
import os
import shutil
import signal
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Union

from .errors import UserError

MARKER_PREFIX = ".spacy_wv-"
KINDS: Dict[str, str] = {
    "tokenizer": "a tokenizer made by `spacy_wv tokenizer`",
    "shards": "token shards made by `spacy_wv encode`",
    "pretrain": "a pretraining run made by `spacy_wv pretrain`",
    "vectors": "vectors made by `spacy_wv vectors export`",
    "report": "a report made by `spacy_wv report`",
    "evaluation": "results made by `spacy_wv vectors evaluate`",
}
PathLike = Union[str, Path]
# Directories made by earlier versions, before markers: recognised only by files that no
# other tool writes, so that re-running a workflow on its old outputs keeps working.
LegacyCheck = Callable[[Path], bool]


def marker_file(directory: PathLike, kind: str) -> Path:
    return Path(directory) / f"{MARKER_PREFIX}{kind}"


def write_marker(directory: PathLike, kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"Unknown output kind {kind!r}")
    marker_file(directory, kind).write_text(KINDS[kind] + "\n", encoding="utf8")


def output_kind(directory: PathLike) -> Optional[str]:
    """The kind of spacy_wv output a directory holds (by its marker), or None."""
    for kind in KINDS:
        if marker_file(directory, kind).is_file():
            return kind
    return None


def describe_dir(directory: Path) -> str:
    """What a non-empty directory holds, in words, for an error message."""
    kind = output_kind(directory)
    if kind is not None:
        return KINDS[kind]
    names = sorted(p.name for p in directory.iterdir())
    has = set(names)
    if "meta.json" in has and "config.cfg" in has:
        return "a spaCy pipeline (config.cfg, meta.json)"
    if "config.json" in has and has & {"model.safetensors", "pytorch_model.bin"}:
        return "a Hugging Face model (config.json and weights)"
    if "tokenizer.json" in has:
        return "a tokenizer not made by `spacy_wv tokenizer` (tokenizer.json and other files)"
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return f"{len(names)} other file(s) ({shown})"


def check_output_dir(path: PathLike, kind: str, legacy: Optional[LegacyCheck] = None) -> bool:
    """Raise UserError unless `path` may receive `kind` output; True if it already holds
    that kind (to be replaced or resumed), False if it is new or empty."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UserError(f"The output path {path} is a file, not a directory: choose a directory")
    check_writable_parent(path)
    if not path.exists() or not any(path.iterdir()):
        return False
    if marker_file(path, kind).is_file() or (output_kind(path) is None and legacy is not None and legacy(path)):
        return True
    raise UserError(f"{path} holds {describe_dir(path)}, not {KINDS[kind]}: nothing was written; "
                    f"choose a new or empty directory (--overwrite never replaces other output)")


def check_output_file(path: PathLike, suffix: Optional[str] = None) -> None:
    """An output file: not a directory, and its folder can be created and written."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"The output path {path} is a directory: give a file name{f' ending in {suffix}' if suffix else ''}")
    if path.exists() and not os.access(path, os.W_OK):
        raise UserError(f"Cannot write to {path} (permission denied): choose another output file")
    check_writable_parent(path)


def check_writable_parent(path: Path) -> None:
    """The nearest existing ancestor of `path` is a writable directory (it will hold a
    temporary sibling and the renamed result)."""
    ancestor = Path(os.path.abspath(path)).parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise UserError(f"Cannot create {path}: {ancestor} is a file, not a directory")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise UserError(f"Cannot write to {ancestor} (permission denied): choose another output location for {path}")


@contextmanager
def atomic_output_dir(output_dir: PathLike, kind: Optional[str] = None) -> Iterator[Path]:
    """Yield a fresh sibling directory to write into; on success it replaces
    `output_dir` (and whatever was there) with the `kind` marker added, on any error or
    interrupt it is removed and `output_dir` is left as it was."""
    output_dir = Path(output_dir)
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = output_dir.parent / f".{output_dir.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp_dir.mkdir()
    try:
        with terminate_as_interrupt():
            yield tmp_dir
            if kind is not None:
                write_marker(tmp_dir, kind)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    if output_dir.exists():
        old_dir = tmp_dir.with_name(tmp_dir.name + ".old")
        os.replace(output_dir, old_dir)
        os.replace(tmp_dir, output_dir)
        shutil.rmtree(old_dir, ignore_errors=True)
    else:
        os.replace(tmp_dir, output_dir)


@contextmanager
def atomic_output_file(path: PathLike) -> Iterator[Path]:
    """Yield a temporary sibling file name; renamed to `path` on success, removed otherwise."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex[:8]}{path.suffix}"
    try:
        with terminate_as_interrupt():
            yield tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt (as Ctrl-C does) instead of killing the process
    outright, so that cleanup code runs. No effect outside the main thread."""
    try:
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    except ValueError:
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class StopSignalHandler:
    """Inside the `with` block, Ctrl-C and SIGTERM call `_handle`; the previous handlers
    come back on exit. No effect outside the main thread, where signals cannot be caught."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def _handle(self, signum, frame) -> None:
        raise NotImplementedError

    def __enter__(self):
        try:
            self._previous: Dict = {sig: signal.signal(sig, self._handle) for sig in self.SIGNALS}
        except ValueError:
            self._previous = {}
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


class InterruptFlag(StopSignalHandler):
    """Ctrl-C and SIGTERM set a flag instead of raising, for code that calls into a
    library that would swallow the exception (the tokenizers trainer reads our iterator
    from Rust). `raise_if_set()` turns the flag into KeyboardInterrupt."""

    def __init__(self):
        self.set = False

    def _handle(self, signum, frame):
        self.set = True

    def raise_if_set(self) -> None:
        if self.set:
            raise KeyboardInterrupt("interrupted")


def as_path_list(paths: Union[PathLike, List[PathLike]]) -> List[Path]:
    """One path or several: a single `str` is one path, not a sequence of characters."""
    if isinstance(paths, (str, Path)):
        return [Path(paths)]
    return [Path(p) for p in paths]
