import os
import signal
import sys

# Our commands never reach a model hub: every model is pretrained locally, and a mistyped
# path must fail at once instead of after network retries. Set here, in our own entry
# point, before anything imports huggingface_hub, and not on `import spacy_wv`: a process
# that loads one of our pipelines keeps its own hub settings.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from ..errors import UserError, fail_line  # noqa: E402
from ._app import app, vectors_app  # noqa: E402

# Each module registers its commands on `app` (or `vectors_app`) when imported.
from . import tokenizer, encode, pretrain, convert, vectors, fasttext, report, quantize  # noqa: F401,E402


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
