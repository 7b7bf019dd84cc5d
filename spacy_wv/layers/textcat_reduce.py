"""spaCy's reduction text classifier, for batches in which some texts are empty.

spaCy's `reduce_max` (and `reduce_first`, `reduce_last`) refuse a sequence of length 0,
so one empty text in a batch (`nlp.pipe(["", "great movie"])`) crashed the whole batch,
while spaCy's `textcat` gives a batch of only empty texts 0 for every label. Here an
empty doc reduces one row of zeros, and its scores are then set to 0: the same cats as
`nlp("")`, in any batch.

`spacy_wv.TextCatEmptyDocs.v1` gives any other text classifier (spaCy's bag-of-words
`spacy.TextCatBOW.v3`, its `spacy.TextCatEnsemble.v2`) the same scores for empty docs:
those do not crash on one, but score it by their biases (the label prior), unlike `nlp("")`.
"""
from typing import Callable, List, Optional, Tuple

from spacy.ml.models.textcat import build_reduce_text_classifier
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Model, chain
from thinc.types import Floats2d


@registry.architectures("spacy_wv.TextCatReduce.v1")
def TextCatReduce(
    tok2vec: Model[List[Doc], List[Floats2d]],
    exclusive_classes: bool,
    use_reduce_first: bool,
    use_reduce_last: bool,
    use_reduce_max: bool,
    use_reduce_mean: bool,
    nO: Optional[int] = None,
) -> Model[List[Doc], Floats2d]:
    """`spacy.TextCatReduce.v1` (same settings) that also scores empty docs among others."""
    width = tok2vec.maybe_get_dim("nO")
    padded = chain(tok2vec, Model("one_row_for_empty_docs", _one_row_for_empty_docs, dims={"nI": width, "nO": width}))
    classifier = build_reduce_text_classifier(padded, exclusive_classes, use_reduce_first, use_reduce_last,
                                              use_reduce_max, use_reduce_mean, nO)
    return _empty_docs_score_zero("textcat_reduce", classifier, tok2vec)


@registry.architectures("spacy_wv.TextCatEmptyDocs.v1")
def TextCatEmptyDocs(classifier: Model[List[Doc], Floats2d]) -> Model[List[Doc], Floats2d]:
    """`classifier` (any text classifier), with the scores of empty docs set to 0 in any
    batch, as spaCy's textcat gives `nlp("")`; their gradients are 0 too."""
    return _empty_docs_score_zero("textcat_empty_docs", classifier,
                                  classifier.get_ref("tok2vec") if classifier.has_ref("tok2vec") else None)


def _empty_docs_score_zero(name: str, classifier: Model, tok2vec: Optional[Model]) -> Model:
    # The textcat component reads the output layer through these refs and attrs.
    attrs = dict(classifier.attrs)
    if "resize_output" in classifier.attrs:
        attrs["resize_output"] = _resize_output
    refs = {"output_layer": classifier.get_ref("output_layer")}
    if tok2vec is not None:
        refs["tok2vec"] = tok2vec
    return Model(name, _zero_scores_of_empty_docs, init=_init, layers=[classifier],
                 dims={"nO": classifier.maybe_get_dim("nO")}, attrs=attrs, refs=refs)


def _resize_output(model: Model, new_nO: int) -> Model:
    classifier = model.layers[0]
    classifier.attrs["resize_output"](classifier, new_nO)
    model.set_ref("output_layer", classifier.get_ref("output_layer"))
    model.set_dim("nO", new_nO, force=True)
    return model


def _init(model: Model, X=None, Y=None) -> None:
    classifier = model.layers[0]
    classifier.initialize(X=X, Y=Y)
    if classifier.has_dim("nO") is True and model.has_dim("nO") is not True:
        model.set_dim("nO", classifier.get_dim("nO"))


def _zero_scores_of_empty_docs(model: Model, docs: List[Doc], is_train: bool) -> Tuple[Floats2d, Callable]:
    scores, backprop_scores = model.layers[0](docs, is_train)
    empty = [i for i, doc in enumerate(docs) if len(doc) == 0]
    if not empty:
        return scores, backprop_scores
    scores = scores.copy()
    scores[empty] = 0.0

    def backprop(d_scores: Floats2d):
        d_scores = d_scores.copy()
        d_scores[empty] = 0.0
        return backprop_scores(d_scores)

    return scores, backprop


def _one_row_for_empty_docs(model: Model, Xs: List[Floats2d], is_train: bool) -> Tuple[List[Floats2d], Callable]:
    empty = {i for i, X in enumerate(Xs) if X.shape[0] == 0}
    if not empty:
        return Xs, lambda dYs: dYs
    # A listener may give an empty doc no columns either (0 x 0).
    width = model.maybe_get_dim("nO") or max(X.shape[1] for X in Xs)
    padded = [model.ops.alloc2f(1, width) if i in empty else X for i, X in enumerate(Xs)]

    def backprop(dYs: List[Floats2d]) -> List[Floats2d]:
        return [model.ops.alloc2f(*Xs[i].shape) if i in empty else dY for i, dY in enumerate(dYs)]

    return padded, backprop
