"""Exclusive text classification with label smoothing (spaCy's `textcat` has none)."""
from typing import Callable, Iterable, List, Optional

from spacy.language import Language
from spacy.pipeline.textcat import DEFAULT_SINGLE_TEXTCAT_MODEL, TextCategorizer
from spacy.tokens import Doc
from spacy.training import Example, validate_examples
from thinc.api import Model
from thinc.types import Floats2d

from ..errors import UserError


class SmoothedTextCategorizer(TextCategorizer):
    """`textcat` whose targets are (1 - e) * one_hot + e / n_labels."""

    def __init__(self, vocab, model: Model, name: str = "wv_textcat", *, threshold: float,
                 label_smoothing: float, scorer: Optional[Callable]) -> None:
        if not 0.0 <= label_smoothing < 1.0:
            raise UserError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
        super().__init__(vocab, model, name, threshold=threshold, scorer=scorer)
        self.cfg["label_smoothing"] = label_smoothing

    def get_loss(self, examples: Iterable[Example], scores):
        validate_examples(examples, "SmoothedTextCategorizer.get_loss")
        self._validate_categories(examples)
        truths, not_missing = self._examples_to_truth(examples)
        smoothing = self.cfg["label_smoothing"]
        truths = truths * (1.0 - smoothing) + smoothing / truths.shape[1]
        d_scores = (scores - truths) * self.model.ops.asarray(not_missing)
        return float((d_scores**2).mean()), d_scores


@Language.factory(
    "wv_textcat",
    assigns=["doc.cats"],
    default_config={
        "threshold": 0.0,
        "label_smoothing": 0.1,
        "model": DEFAULT_SINGLE_TEXTCAT_MODEL,
        "scorer": {"@scorers": "spacy.textcat_scorer.v2"},
    },
    default_score_weights={
        "cats_score": 1.0, "cats_score_desc": None, "cats_micro_p": None, "cats_micro_r": None,
        "cats_micro_f": None, "cats_macro_p": None, "cats_macro_r": None, "cats_macro_f": None,
        "cats_macro_auc": None, "cats_f_per_type": None,
    },
)
def make_wv_textcat(nlp: Language, name: str, model: Model[List[Doc], List[Floats2d]], threshold: float,
                    label_smoothing: float, scorer: Optional[Callable]) -> SmoothedTextCategorizer:
    return SmoothedTextCategorizer(nlp.vocab, model, name, threshold=threshold,
                                   label_smoothing=label_smoothing, scorer=scorer)
