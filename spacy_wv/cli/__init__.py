import signal
import sys

from ..errors import UserError, fail_line
from ._app import app, vectors_app

# Each module registers its commands on `app` (or `vectors_app`) when imported.
from . import tokenizer, encode, pretrain, convert, vectors, fasttext, report  # noqa: F401,E402


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def _interrupted() -> None:
    fail_line("Interrupted: the unfinished command left its output as it was (nothing half-written)")
    sys.exit(130)


def main() -> None:
    # SIGTERM unwinds like Ctrl-C, so that temporary outputs are removed on the way out.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        app()
    except UserError as err:
        fail_line(str(err))
        sys.exit(1)
    except KeyboardInterrupt:
        _interrupted()
    except SystemExit as exit_:
        if exit_.code == 130:  # typer turns KeyboardInterrupt into exit code 130, silently
            _interrupted()
        raise
    except OSError as err:  # a disk or permission problem met mid-way: name the file, no traceback
        fail_line(f"{err.strerror or err}: {err.filename or ''}".strip())
        sys.exit(1)


__all__ = ["app", "vectors_app", "main"]
