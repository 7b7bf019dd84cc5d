"""spacy_wv: pretrain Transformer encoders on your own text and use them as word vectors in spaCy."""
from .about import __version__
from .errors import UserError

__all__ = ["__version__", "UserError"]
