import sys

from wasabi import color

from ..errors import UserError
from ._app import app, vectors_app

# Each module registers its commands on `app` (or `vectors_app`) when imported.
from . import tokenizer, encode, pretrain, convert, vectors, fasttext, report  # noqa: F401,E402


def main() -> None:
    try:
        app()
    except UserError as err:
        # One line, unwrapped (wasabi's msg.fail wraps at 80 columns), so logs stay greppable.
        line = "✘ " + " ".join(str(err).split())
        print(color(line, fg="red") if sys.stdout.isatty() else line)
        sys.exit(1)


__all__ = ["app", "vectors_app", "main"]
