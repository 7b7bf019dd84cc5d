import sys

from wasabi import msg

from ..errors import UserError
from ._app import app, vectors_app

# Each module registers its commands on `app` (or `vectors_app`) when imported.
from . import tokenizer, encode, pretrain, convert, vectors  # noqa: F401,E402


def main() -> None:
    try:
        app()
    except UserError as err:
        msg.fail(str(err))
        sys.exit(1)


__all__ = ["app", "vectors_app", "main"]
