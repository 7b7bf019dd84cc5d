from .encoder_features import EncoderFeatures
from .mix_listener import ScalarMixListener
from .scalar_mix import ScalarMix
from .stacked_tok2vec import StackedTok2Vec
from .subword_pooling import SubwordPooling
from .textcat_reduce import TextCatEmptyDocs, TextCatReduce
from .transformer_model import create_transformer_model

__all__ = ["EncoderFeatures", "ScalarMixListener", "ScalarMix", "StackedTok2Vec", "SubwordPooling",
           "TextCatEmptyDocs", "TextCatReduce", "create_transformer_model"]
