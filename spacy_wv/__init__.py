"""spacy_wv: pretrain Transformer encoders on your own text and use them as word vectors in spaCy."""
from .about import __version__
from .errors import UserError, show_user_errors_in_spacy_cli

# Acts only in a `spacy ...` CLI process (`spacy train` with our layers in the config):
# a script or service that loads one of our pipelines keeps its own excepthook.
show_user_errors_in_spacy_cli()

__all__ = ["__version__", "UserError"]
