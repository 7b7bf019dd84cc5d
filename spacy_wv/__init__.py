"""spacy_wv: pretrain Transformer encoders on your own text and use them as word vectors in spaCy."""
import os

# Nothing here may reach a model hub: every model is pretrained locally. Set before
# anything imports huggingface_hub, so a mistyped path fails fast instead of retrying.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from .about import __version__  # noqa: E402
from .errors import UserError, show_user_errors_in_spacy_cli  # noqa: E402

show_user_errors_in_spacy_cli()

__all__ = ["__version__", "UserError"]
