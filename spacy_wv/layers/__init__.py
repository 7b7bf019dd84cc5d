from .mix_listener import ScalarMixListener
from .scalar_mix import ScalarMix
from .subword_pooling import SubwordPooling
from .transformer_model import create_transformer_model

__all__ = ["ScalarMixListener", "ScalarMix", "SubwordPooling", "create_transformer_model"]
