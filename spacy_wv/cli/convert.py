from ._app import app  # noqa: F401 (commands are added by this module's owner)
