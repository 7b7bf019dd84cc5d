"""spaCy's own CNN token features with frozen encoder features beside them, so the
encoder can only add to what the CNN already learns from the labels."""
from typing import List

from spacy.ml.models.tok2vec import build_Tok2Vec_model
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Model, concatenate
from thinc.types import Floats2d


@registry.architectures("spacy_wv.StackedTok2Vec.v1")
def StackedTok2Vec(
    embed: Model[List[Doc], List[Floats2d]],
    encode: Model[List[Floats2d], List[Floats2d]],
    features: Model[List[Doc], List[Floats2d]],
) -> Model[List[Doc], List[Floats2d]]:
    """`embed` and `encode` as in spaCy's `spacy.Tok2Vec.v2` (e.g. MultiHashEmbed with
    optional static vectors, MaxoutWindowEncoder); `features` is any doc-to-token-rows
    model, normally `spacy_wv.EncoderFeatures.v1`. The output width is the CNN's width
    plus the features' width: listeners must say so in their `width`."""
    cnn = build_Tok2Vec_model(embed, encode)
    model = concatenate(cnn, features)
    model.set_dim("nO", cnn.get_dim("nO") + features.get_dim("nO"))
    model.set_ref("cnn", cnn)
    model.set_ref("features", features)
    return model
