import sys
from pathlib import Path

from wasabi import color


class UserError(Exception):
    """Bad input from the user (a missing file, an empty corpus, a bad config value).

    The CLI prints the message as one line and exits 1, without a traceback. Raise it
    before writing anything, so that no half-written output is left behind.
    """


def fail_line(text: str) -> None:
    """Print an error as one line, unwrapped (wasabi's msg.fail wraps at 80 columns), so logs stay greppable."""
    line = "✘ " + " ".join(str(text).split())
    print(color(line, fg="red") if sys.stdout.isatty() else line, flush=True)


def show_user_errors_in_spacy_cli() -> None:
    """Under spaCy's own CLI (`spacy train` with our layers and components in the
    config), a UserError of ours reaches Python's top level, which would print some 60
    lines of traceback before the one line that matters: print that line as our CLI does
    instead (exit code 1, as for any uncaught error). Other errors keep their traceback."""
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path()
    if "spacy" not in (script.name, script.parent.name) or getattr(sys.excepthook, "shows_user_errors", False):
        return
    previous = sys.excepthook

    def excepthook(kind, error, traceback):
        if isinstance(error, UserError):
            fail_line(str(error))
        else:
            previous(kind, error, traceback)

    excepthook.shows_user_errors = True
    sys.excepthook = excepthook
