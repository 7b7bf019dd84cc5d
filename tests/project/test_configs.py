"""Every config resolves, and every function this package registers resolves from a config."""
import configparser
import importlib
import io
import pkgutil
from typing import Dict, Tuple

import pytest
import spacy
from spacy.util import load_config, registry
from spacy.training import Example
from thinc.api import Config, Model

import spacy_wv

from .tiny_pipelines import REPO

CONFIGS = ["ner.cfg", "textcat.cfg", "ner_baseline.cfg", "textcat_baseline.cfg", "ner_stacked.cfg",
           "textcat_stacked.cfg", "textcat_bow.cfg", "textcat_ensemble.cfg", "zh_ner_stacked.cfg",
           "zh_textcat_stacked.cfg", "zh_textcat_bow.cfg", "zh_textcat_ensemble.cfg"]


@pytest.mark.parametrize("name", CONFIGS)
def test_config_builds_its_pipeline(name):
    config = load_config(REPO / "configs" / name, overrides={"paths.train": "x", "paths.dev": "y"})
    nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    base = name.removeprefix("zh_")
    expected = "ner" if base.startswith("ner") else "textcat"
    if "baseline" in name:
        assert nlp.pipe_names == ["tok2vec", expected]
    elif "bow" in name:  # spaCy's bag-of-words textcat needs no tok2vec
        assert nlp.pipe_names == [expected]
    else:  # the pipelines users get carry contextual vectors (issue 10)
        first = "transformer" if base in ("ner.cfg", "textcat.cfg") else "tok2vec"
        assert nlp.pipe_names == [first, expected, "wv_vectors"]


REGISTERED = {
    "architectures": {
        "spacy_wv.SubwordPooling.v1": {"mode": "first_last"},
        "spacy_wv.ScalarMixListener.v1": {"pooling": {"@architectures": "spacy_wv.SubwordPooling.v1", "mode": "mean"},
                                          "last_layer_logit": 3.0},
        "spacy_wv.TransformerModel.v1": {
            "name": "any-dir", "embedding_noise": 0.1,
            "get_spans": {"@span_getters": "spacy-transformers.strided_spans.v1", "window": 64, "stride": 48}},
    },
    "augmenters": {
        "spacy_wv.TokenNoiseAugmenter.v1": {"level": 0.2},
    },
    "loggers": {
        "spacy_wv.TimedConsoleLogger.v1": {"stats_path": None},
    },
}


@pytest.mark.parametrize("registry_name,func", [(r, f) for r, fs in REGISTERED.items() for f in fs])
def test_registered_function_resolves(registry_name, func):
    block = {f"@{registry_name}": func, **REGISTERED[registry_name][func]}
    resolved = registry.resolve(Config({"x": block}))["x"]
    if registry_name == "architectures":
        assert isinstance(resolved, Model) and resolved.name
    elif registry_name == "augmenters":
        nlp = spacy.blank("en")
        doc = nlp("Peter Blackburn visited London yesterday .")
        (augmented,) = list(resolved(nlp, Example(doc, doc)))
        assert isinstance(augmented, Example) and len(augmented.reference) == len(doc)
    else:
        log_step, finalize = resolved(spacy.blank("en"), io.StringIO(), io.StringIO())
        assert callable(log_step) and callable(finalize)


# setup.cfg's entry point groups and the spaCy registries they fill.
ENTRY_POINT_REGISTRIES = {"spacy_architectures": "architectures", "spacy_misc": "misc", "spacy_factories": "factories",
                          "spacy_loggers": "loggers", "spacy_augmenters": "augmenters"}


def setup_cfg_entry_points() -> Dict[Tuple[str, str], str]:
    """{(registry, name): "module:attribute"} as setup.cfg itself declares them (the
    installed metadata is only as new as the last `pip install -e .`)."""
    parser = configparser.ConfigParser()
    parser.optionxform = str  # keep the names' case
    parser.read(REPO / "setup.cfg", encoding="utf8")
    section = parser["options.entry_points"]
    declared = {}
    for group, registry_name in ENTRY_POINT_REGISTRIES.items():
        for line in section.get(group, "").strip().splitlines():
            name, _, value = (part.strip() for part in line.partition("="))
            declared[(registry_name, name)] = value
    return declared


def test_installed_entry_points_are_those_of_setup_cfg():
    from importlib.metadata import distribution

    installed = {(ENTRY_POINT_REGISTRIES[ep.group], ep.name): ep.value for ep in distribution("spacy_wv").entry_points
                 if ep.group in ENTRY_POINT_REGISTRIES}
    assert installed == setup_cfg_entry_points(), "reinstall (pip install -e .) after editing setup.cfg"


def test_every_entry_point_loads_the_function_its_registry_holds():
    """What spacy.load finds without importing us is what the decorators register."""
    declared = setup_cfg_entry_points()
    assert len(declared) >= 15 and ("factories", "wv_vectors") in declared and ("factories", "wv_textcat") in declared
    for (registry_name, name), value in declared.items():
        module, _, attr = value.partition(":")
        target = getattr(importlib.import_module(module), attr)
        assert getattr(registry, registry_name).get(name) is target, (registry_name, name, value)


def test_every_registered_function_of_ours_has_an_entry_point():
    for module in pkgutil.walk_packages(spacy_wv.__path__, "spacy_wv."):
        if not module.name.startswith("spacy_wv.cli"):
            importlib.import_module(module.name)
    registered = {}
    for registry_name in set(ENTRY_POINT_REGISTRIES.values()):
        for name, func in getattr(registry, registry_name).get_all().items():
            if getattr(func, "__module__", "").startswith("spacy_wv."):
                registered[(registry_name, name)] = f"{func.__module__}:{func.__name__}"
    # Both ways: nothing registered without an entry point, no entry point without its function.
    assert registered == setup_cfg_entry_points()
