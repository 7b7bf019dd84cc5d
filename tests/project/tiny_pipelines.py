"""Tiny pipelines trained once per test session with the real configs, on real data
slices and the tiny encoder. The encoder copy they are trained from is deleted
afterwards, so every test using them also shows the pipeline no longer needs it."""
import shutil
from pathlib import Path
from typing import Optional, Tuple

import torch
from spacy.cli.train import train

from spacy_wv.corpus.conll import convert_conll
from spacy_wv.corpus.labeled_text import convert_labeled_text, parse_label_map

REPO = Path(__file__).resolve().parents[2]
STEPS = 12


def _pipelines_dir(tmp_path_factory) -> Path:
    """One folder per session for the tiny pipelines and their data slices."""
    base = tmp_path_factory.getbasetemp() / "tiny_pipelines"
    base.mkdir(exist_ok=True)
    return base


def _train(base: Path, name: str, config: str, encoder_dir: Optional[Path], train_path: Path, dev_path: Path,
           overrides: Optional[dict] = None) -> Path:
    """`encoder_dir` None: a config without an encoder (no [paths] encoder)."""
    out = base / name
    made_from = out / "encoder_source.txt"
    if (out / "model-last").exists():
        # One pipeline per name and session: a second encoder needs a name of its own.
        assert made_from.read_text(encoding="utf8") == str(encoder_dir), \
            f"{name} was trained from {made_from.read_text(encoding='utf8')}, not {encoder_dir}: give it another name"
    else:
        encoder_copy = None if encoder_dir is None else base / f"{name}_encoder"
        if encoder_copy is not None:
            shutil.copytree(encoder_dir, encoder_copy)
        threads = torch.get_num_threads()
        # On a shared 2-core machine one thread is ~10x faster than two fighting for cores.
        torch.set_num_threads(1)
        try:
            _run_train(out, config, encoder_copy, train_path, dev_path, overrides or {})
        finally:
            torch.set_num_threads(threads)
        if encoder_copy is not None:
            shutil.rmtree(encoder_copy)
        made_from.write_text(str(encoder_dir), encoding="utf8")
    return out / "model-last"


def train_log(pipeline: Path) -> Path:
    """spaCy's JSON-lines training log of a pipeline made here (losses at each evaluation)."""
    return pipeline.parent / "train_log.jsonl"


def _run_train(out: Path, config: str, encoder_copy: Optional[Path], train_path: Path, dev_path: Path,
               overrides: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    encoder = {} if encoder_copy is None else {"paths.encoder": str(encoder_copy)}
    # Evaluations at steps 0, 4, 8 and 12: the log's loss windows show whether training learned.
    train(REPO / "configs" / config, out, overrides={
        "paths.train": str(train_path), "paths.dev": str(dev_path), **encoder,
        "paths.training_stats": str(out / "training_stats.json"), "training.logger.output_file": str(train_log(out / "model-last")),
        "training.max_steps": STEPS, "training.eval_frequency": STEPS // 3,
        "training.optimizer.learn_rate.warmup_steps": 2, **overrides,
    })


def _conll_slices(base: Path, data_dir: Path) -> Tuple[Path, Path]:
    train_path, dev_path = base / "conll_train.spacy", base / "conll_dev.spacy"
    if not dev_path.exists():
        convert_conll(data_dir / "conll2003" / "eng.train", train_path, n_sents=4, max_docs=16)
        convert_conll(data_dir / "conll2003" / "eng.testa", dev_path, n_sents=4, max_docs=4)
    return train_path, dev_path


def tiny_ner_pipeline(tmp_path_factory, data_dir, encoder_dir, name: str = "ner") -> Path:
    base = _pipelines_dir(tmp_path_factory)
    return _train(base, name, "ner.cfg", encoder_dir, *_conll_slices(base, data_dir))


def tiny_fasttext_vectors(tmp_path_factory, text_file: Path) -> Path:
    """fastText vectors (16 dims, one epoch) of the real text slice, as a spaCy vectors dir."""
    import spacy
    from spacy.training.initialize import convert_vectors

    from spacy_wv.vectors.fasttext import FastTextSettings, train_fasttext

    base = _pipelines_dir(tmp_path_factory)
    out = base / "fasttext_vectors"
    if not out.exists():
        train_fasttext([text_file], base / "fasttext.txt", FastTextSettings(dim=16, epochs=1, workers=1))
        nlp = spacy.blank("en")  # what `spacy init vectors en FILE DIR` does
        convert_vectors(nlp, base / "fasttext.txt", truncate=0, prune=-1)
        nlp.to_disk(out)
    return out


def tiny_stacked_ner_pipeline(tmp_path_factory, data_dir, encoder_dir, vectors_dir, name: str = "ner_stacked") -> Path:
    """configs/ner_stacked.cfg with static vectors: CNN + fastText + frozen encoder features.
    One pipeline per `name`: give each encoder its own."""
    base = _pipelines_dir(tmp_path_factory)
    return _train(base, name, "ner_stacked.cfg", encoder_dir, *_conll_slices(base, data_dir), overrides={
        "paths.vectors": str(vectors_dir), "components.tok2vec.model.embed.include_static_vectors": True,
    })


def sst2_slices(base: Path, data_dir: Path) -> Tuple[Path, Path]:
    train_path, dev_path = base / "sst2_train.spacy", base / "sst2_dev.spacy"
    names = parse_label_map("0=negative,1=positive")
    if not dev_path.exists():
        convert_labeled_text(data_dir / "sst2" / "train.txt", train_path, label_map=names, max_docs=64)
        convert_labeled_text(data_dir / "sst2" / "dev.txt", dev_path, label_map=names, max_docs=16)
    return train_path, dev_path


def sst2_slice_accuracy(nlp, tmp_path_factory, data_dir) -> Tuple[float, float]:
    """(accuracy, the majority class's share) of `nlp` on the SST-2 training slice the tiny
    textcat pipelines were trained on."""
    from collections import Counter

    from spacy.tokens import DocBin

    train_path, _ = sst2_slices(_pipelines_dir(tmp_path_factory), data_dir)
    gold = list(DocBin().from_disk(train_path).get_docs(nlp.vocab))
    labels = [max(doc.cats, key=doc.cats.get) for doc in gold]
    majority = max(Counter(labels).values()) / len(labels)
    predicted = [max(doc.cats, key=doc.cats.get) for doc in nlp.pipe(doc.text for doc in gold)]
    accuracy = sum(p == g for p, g in zip(predicted, labels)) / len(labels)
    print(f"majority {majority:.3f} accuracy {accuracy:.3f}")
    return accuracy, majority


def tiny_textcat_pipeline(tmp_path_factory, data_dir, encoder_dir) -> Path:
    base = _pipelines_dir(tmp_path_factory)
    return _train(base, "textcat", "textcat.cfg", encoder_dir, *sst2_slices(base, data_dir))


def tiny_stacked_textcat_pipeline(tmp_path_factory, data_dir, encoder_dir, name: str = "textcat_stacked") -> Path:
    """configs/textcat_stacked.cfg (CNN + frozen encoder features) on the SST-2 slice."""
    base = _pipelines_dir(tmp_path_factory)
    return _train(base, name, "textcat_stacked.cfg", encoder_dir, *sst2_slices(base, data_dir))


def tiny_bow_textcat_pipeline(tmp_path_factory, data_dir) -> Path:
    """configs/textcat_bow.cfg (spaCy's bag-of-words textcat, no encoder) on the SST-2 slice."""
    base = _pipelines_dir(tmp_path_factory)
    return _train(base, "textcat_bow", "textcat_bow.cfg", None, *sst2_slices(base, data_dir))


def tiny_ensemble_textcat_pipeline(tmp_path_factory, data_dir, encoder_dir, vectors_dir: Optional[Path] = None,
                                   name: str = "textcat_ensemble") -> Path:
    """configs/textcat_ensemble.cfg (spaCy's ensemble of the bag-of-words classifier and the
    stacked tok2vec) on the SST-2 slice; with `vectors_dir`, the CNN's static vectors on.
    Twice the steps of the others: the ensemble's output layer starts at zero weights, so
    nothing below it learns on the first step (at 12 steps it classified 43 of the 64
    training sentences, the majority class 39; at 24, all 64)."""
    base = _pipelines_dir(tmp_path_factory)
    overrides = {"training.max_steps": 2 * STEPS, "training.eval_frequency": 2 * STEPS // 3}
    if vectors_dir is not None:
        overrides.update({"paths.vectors": str(vectors_dir), "components.tok2vec.model.embed.include_static_vectors": True})
    return _train(base, name, "textcat_ensemble.cfg", encoder_dir, *sst2_slices(base, data_dir), overrides=overrides)
