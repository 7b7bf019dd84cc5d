"""The rules every command that writes follows, so that no command destroys a user's files.

- An output is never one of the command's inputs, nor contains one, nor lies inside one.
- A directory output must not exist, be empty, or hold the command's own kind of output,
  recognised by a marker file (`.spacy_wv-KIND`) that only that command writes, or (for
  directories made before markers) by the *complete* set of files that command wrote,
  never by one common file name. Anything else is refused, `--overwrite` or not, with a
  message naming what is there.
- A file output that exists is replaced only when its whole content is checked to be
  the command's own format (a DocBin that loads, a word2vec table that parses).
- One run at a time per output: `output_lock` holds an exclusive lock on a file beside
  the output (`.NAME.spacy_wv-lock`, naming the holder's PID). The kernel releases it
  however the holder ends, kill -9 included, so a lock file left behind by a dead run is
  taken over by the next one.
- Writes are atomic: a temporary sibling (`.NAME.tmp-XXXXXXXX`) is filled and renamed
  over the output, so an interrupted command (an error, Ctrl-C, SIGTERM) leaves the old
  output as it was. Scratch files go beside the output under the same kind of name;
  whatever a killed run left there is removed by the next run that takes the lock.

Every check runs before any work starts.
"""
import errno
import fcntl
import glob
import os
import shutil
import signal
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import AbstractSet, Callable, Dict, Iterable, Iterator, List, Optional, Union

from wasabi import msg

from .errors import UserError

MARKER_PREFIX = ".spacy_wv-"
KINDS: Dict[str, str] = {
    "tokenizer": "a tokenizer made by `spacy_wv tokenizer`",
    "shards": "token shards made by `spacy_wv encode`",
    "pretrain": "a pretraining run made by `spacy_wv pretrain`",
    "vectors": "vectors made by `spacy_wv vectors export`",
    "report": "a report made by `spacy_wv report`",
    "evaluation": "results made by `spacy_wv vectors evaluate`",
    "int8": "an int8 pipeline made by `spacy_wv quantize`",
}
LOCK_SUFFIX = ".spacy_wv-lock"
TEMP_INFIX = ".tmp-"
PathLike = Union[str, Path]
# Recognises a directory that an earlier version wrote before markers existed.
LegacyCheck = Callable[[Path], bool]
# Says whether an existing file is, by its whole content, the command's own format.
FormatCheck = Callable[[Path], bool]


class LegacyFiles:
    """A directory an earlier version wrote: every one of `required` is there and
    nothing but `required` and `optional`. A single familiar name (a `metrics.json`, a
    `pretrain.cfg`) never makes a user's folder ours."""

    def __init__(self, required: AbstractSet[str], optional: AbstractSet[str] = frozenset()):
        self.required = frozenset(required)
        self.allowed = self.required | frozenset(optional)

    def __call__(self, path: Path) -> bool:
        names = {p.name for p in Path(path).iterdir()}
        return self.required <= names <= self.allowed


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


def check_not_an_input(output: PathLike, inputs: Iterable[Optional[PathLike]]) -> None:
    """Refuse an output that is one of the inputs, contains one or lies inside one:
    replacing it would destroy the data the command reads."""
    output = Path(output)
    real_output = Path(os.path.realpath(output))
    for given in inputs:
        if given is None:
            continue
        real_input = Path(os.path.realpath(given))
        if real_output == real_input or (real_output.exists() and real_input.exists() and os.path.samefile(real_output, real_input)):
            relation = "is"
        elif real_input in real_output.parents:
            relation = "lies inside"
        elif real_output in real_input.parents:
            relation = "contains"
        else:
            continue
        raise UserError(f"The output {output} {relation} the input {given}: nothing was written; "
                        f"choose an output apart from the inputs")


def check_output_dir(path: PathLike, kind: str, legacy: Optional[LegacyCheck] = None,
                     inputs: Iterable[Optional[PathLike]] = ()) -> bool:
    """Raise UserError unless `path` may receive `kind` output; True if it already holds
    that kind (to be replaced or resumed), False if it is new or empty."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UserError(f"The output path {path} is a file, not a directory: choose a directory")
    check_writable_parent(path)
    check_not_an_input(path, inputs)
    if not path.exists() or not any(path.iterdir()):
        return False
    if marker_file(path, kind).is_file() or (output_kind(path) is None and legacy is not None and legacy(path)):
        return True
    raise UserError(f"{path} holds {describe_dir(path)}, not {KINDS[kind]}: nothing was written; "
                    f"choose a new or empty directory (--overwrite never replaces other output)")


def check_output_file(path: PathLike, suffix: Optional[str] = None, inputs: Iterable[Optional[PathLike]] = (),
                      is_ours: Optional[FormatCheck] = None, what: str = "") -> None:
    """An output file: not a directory nor an input, its folder can be created and
    written, and a file already there is replaced only if `is_ours` says its content is
    `what` (the command's own format)."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"The output path {path} is a directory: give a file name{f' ending in {suffix}' if suffix else ''}")
    check_not_an_input(path, inputs)
    if path.exists() and not os.access(path, os.W_OK):
        raise UserError(f"Cannot write to {path} (permission denied): choose another output file")
    check_writable_parent(path)
    if path.exists() and is_ours is not None and not is_ours(path):
        raise UserError(f"{path} exists and is not {what}: nothing was written; remove it yourself or choose another output file")


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
def claim_output_dir(path: PathLike, kind: str, inputs: Iterable[Optional[PathLike]] = (),
                     legacy: Optional[LegacyCheck] = None) -> Iterator[bool]:
    """Lock `path` for this run and check it (`check_output_dir`); yields whether it
    holds `kind` output already. Write it with `atomic_output_dir` inside the block."""
    with output_lock(path):
        yield check_output_dir(path, kind, legacy, inputs)


@contextmanager
def claim_output_file(path: PathLike, suffix: str, inputs: Iterable[Optional[PathLike]] = (),
                      is_ours: Optional[FormatCheck] = None, what: str = "") -> Iterator[None]:
    """Lock `path` for this run and check it (`check_output_file`). Write it with
    `atomic_output_file` inside the block."""
    with output_lock(path):
        check_output_file(path, suffix, inputs, is_ours, what)
        yield


def lock_file(output: PathLike) -> Path:
    output = Path(output)
    return output.parent / f".{output.name}{LOCK_SUFFIX}"


@contextmanager
def output_lock(output: PathLike) -> Iterator[None]:
    """Hold the lock of `output` (one run at a time per output), and remove what an
    earlier, killed run left beside it. Folders made for the lock file are removed again
    when nothing was written into them."""
    output = Path(output)
    check_writable_parent(output)
    made = _make_parents(output.parent)
    try:
        fd = _acquire_lock(output)
        try:
            _remove_leftovers(output)
            yield
        finally:
            lock_file(output).unlink(missing_ok=True)  # before releasing: a waiter then sees the file gone and retries
            os.close(fd)
    finally:
        for directory in reversed(made):
            try:
                directory.rmdir()
            except OSError:  # not empty: the output (or something else) is in it
                break


def _make_parents(directory: Path) -> List[Path]:
    missing = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for made in reversed(missing):
        made.mkdir(exist_ok=True)
    return list(reversed(missing))


def _acquire_lock(output: Path) -> int:
    lock = lock_file(output)
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            holder = os.read(fd, 32).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            if err.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise
            raise UserError(f"Another run (PID {holder}) is writing {output}: nothing was done; wait for it to end "
                            f"(its lock is {lock})") from None
        if _is_current(fd, lock):
            stale = os.read(fd, 32).decode("ascii", "replace").strip()
            if stale:
                msg.warn(f"A run (PID {stale}) ended without releasing {lock} (killed?): taking it over")
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
            return fd
        os.close(fd)  # the holder we waited for removed that file: lock the next one


def _is_current(fd: int, lock: Path) -> bool:
    try:
        on_disk = os.stat(lock)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (on_disk.st_dev, on_disk.st_ino)


def temp_sibling(output: PathLike, suffix: str = "") -> Path:
    """A new name beside `output` that `output_lock` recognises as a leftover of it."""
    output = Path(output)
    return output.parent / f".{output.name}{TEMP_INFIX}{uuid.uuid4().hex[:8]}{suffix}"


def _remove_leftovers(output: Path) -> None:
    leftovers = sorted(output.parent.glob(f".{glob.escape(output.name)}{TEMP_INFIX}*"))
    for leftover in leftovers:
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
    if leftovers:
        msg.warn(f"Removed {len(leftovers)} temporary file(s) that an interrupted run left beside {output}")


@contextmanager
def scratch_dir(output: PathLike) -> Iterator[Path]:
    """A temporary directory beside `output` for intermediate files, removed at the end
    (and, should the run be killed, by the next run that locks `output`)."""
    directory = temp_sibling(output, ".scratch")
    directory.mkdir(parents=True)
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def atomic_output_dir(output_dir: PathLike, kind: Optional[str] = None) -> Iterator[Path]:
    """Yield a fresh sibling directory to write into; on success it replaces
    `output_dir` (and whatever was there) with the `kind` marker added, on any error or
    interrupt it is removed and `output_dir` is left as it was."""
    output_dir = Path(output_dir)
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = temp_sibling(output_dir)
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
    tmp = temp_sibling(path, path.suffix)
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
