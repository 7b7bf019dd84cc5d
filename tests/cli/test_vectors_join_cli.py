"""`vectors fasttext --subwords` + `vectors export` -> `vectors join`: joint vectors with
fitted, stored weights; every word gets a vector; `vectors evaluate` scores them."""
import json

import numpy
import pytest
from scipy.stats import spearmanr

from spacy_wv.vectors.joint import JOINT_ARRAYS, JOINT_JSON, JointVectors
from spacy_wv.vectors.tables import W2V_FILE, read_word2vec

def invoke(*args):
    """The CLI in-process, for module-scoped fixtures (no monkeypatch there)."""
    from typer.testing import CliRunner

    from spacy_wv.cli import app

    result = CliRunner().invoke(app, [str(arg) for arg in args])
    return result.exit_code, result.output

# "walked" never occurs: its relatives do, in sentences that vary around them.
MORPHOLOGY = [
    "yesterday she walks to the market", "he talked with his friend for an hour", "they walk home after work",
    "we were talking about the weather", "i talk to my sister every day", "walking is good for the heart",
    "the children talked loudly", "she talks too much", "he walks the dog", "my father talked about the war",
    "the old man walks slowly", "people walk and talk in the park", "she jumped over the fence", "we jump into the lake",
]


@pytest.fixture(scope="module")
def sources(text_slice, tiny_encoder_dir, data_dir, tmp_path_factory):
    """fastText (with its n-gram buckets) and an encoder export of the same small corpus, without 'walked'."""
    root = tmp_path_factory.mktemp("join")
    lines = [line for line in text_slice.read_text(encoding="utf8")[:150_000].splitlines() if "walked" not in line.lower()]
    corpus = root / "corpus.txt"
    corpus.write_text("\n".join(lines + MORPHOLOGY * 30) + "\n", encoding="utf8")
    fasttext, subwords, export = root / "ft.txt", root / "ft_subwords.npz", root / "export"
    code, out = invoke("vectors", "fasttext", fasttext, corpus, "--dim", 16, "--epochs", 5,
                        "--min-count", 1, "--workers", 1, "--bucket", 20_000, "--subwords", subwords)
    assert code == 0, out
    code, out = invoke("vectors", "export", tiny_encoder_dir, export, corpus,
                        "--n-words", 400, "--contexts", 2, "--lowercase")
    assert code == 0, out
    return {"corpus": corpus, "fasttext": fasttext, "subwords": subwords, "export": export,
            "fit": [data_dir / "wordsim" / "ws353_all.tsv", data_dir / "wordsim" / "simlex999.tsv"]}


@pytest.fixture(scope="module")
def joint(sources, tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("joint") / "joint"
    code, out = invoke("vectors", "join", sources["export"], sources["fasttext"], sources["subwords"],
                        out_dir, *[arg for path in sources["fit"] for arg in ("--fit", path)])
    assert code == 0, out
    assert "encoder weight" in out
    return out_dir


def _unit(x):
    return x / numpy.linalg.norm(x, axis=-1, keepdims=True)


def _cosine(a, b):
    return float(_unit(a) @ _unit(b))


def test_weights_come_from_the_fit_sets_and_are_stored(joint):
    report = json.loads((joint / JOINT_JSON).read_text())
    chosen = report["fit"]["chosen"]
    assert report["weights"] == {"encoder": chosen["encoder_weight"], "fasttext": pytest.approx(1 - chosen["encoder_weight"])}
    assert report["fit"]["sets"] == ["ws353_all", "simlex999"] and min(report["fit"]["pairs"].values()) >= 10
    assert report["fit"]["objective"] == "worst_gain"
    # The chosen point is the grid's best: no worse than either part alone, and fastText
    # as given (weight 0, nothing removed) is on the grid with a gain of 0.
    assert chosen["worst_gain"] >= 0
    for alone in report["fit"]["best_alone"].values():
        assert chosen["worst_gain"] >= alone["worst_gain"]
    for name, score in chosen["scores"].items():
        assert score >= report["fit"]["fasttext_alone"][name] - 1e-12
    with numpy.load(joint / JOINT_ARRAYS) as stored:
        assert stored["encoder_components"].shape[0] == chosen["encoder_pcs"]
        assert stored["fasttext_components"].shape[0] == chosen["fasttext_pcs"]


def test_reloading_gives_identical_vectors(joint):
    table = read_word2vec(joint / W2V_FILE)
    first, second = JointVectors.load(joint), JointVectors.load(joint)
    words = table.words[:50] + ["walked", "unseenish", "zyxwvut"]
    a, found_a = first.lookup(words)
    b, found_b = second.lookup(words)
    assert found_a.all() and found_b.all()
    numpy.testing.assert_array_equal(a, b)
    numpy.testing.assert_allclose(a[:50], table.table[:50], atol=1e-5)


def test_a_pipeline_initialized_with_the_joint_table_finds_capitalised_words(joint):
    """The table is lowercased: 'The' and 'THE' in a pipeline initialized from it
    (`[initialize] vectors = PATH`, as `--paths.vectors` sets) get the row of 'the'."""
    import spacy
    from spacy.training.initialize import load_vectors_into_model

    table = read_word2vec(joint / W2V_FILE)
    nlp = spacy.blank("en")
    load_vectors_into_model(nlp, str(joint))
    doc = nlp("The THE the")
    assert nlp.vocab.vectors.n_keys > len(table.words)
    for token in doc:
        numpy.testing.assert_allclose(token.vector, table.table[table.words.index("the")], atol=1e-5)


def test_a_word_in_neither_table_is_close_to_its_morphological_relatives(run_cli, sources, tmp_path):
    assert read_word2vec(sources["fasttext"]).row("walked") is None
    # Both parts weighted and centred: with the tiny tables a fit may drop a part, and the
    # uncentred 16-dimensional fastText puts every cosine near 1.
    code, out = run_cli("vectors", "join", sources["export"], sources["fasttext"], sources["subwords"], tmp_path / "j",
                        "--encoder-weight", 0.5, "--encoder-pcs", 1, "--fasttext-pcs", 1)
    assert code == 0, out
    vectors = JointVectors.load(tmp_path / "j")
    assert vectors.table.row("walked") is None
    walked = vectors["walked"]
    assert numpy.isfinite(walked).all() and numpy.linalg.norm(walked) > 0
    frequent = vectors.table.table[:300]
    baseline = numpy.sort(_unit(frequent) @ _unit(walked))[-15]  # the 95th percentile over frequent words
    for relative in ("walk", "walks", "talked"):
        assert _cosine(walked, vectors[relative]) > baseline, relative


def test_evaluate_scores_four_pairs_as_recomputed_by_hand(run_cli, joint, sources, tmp_path):
    pairs = [("walk", "talk", 6.0), ("market", "friend", 1.5), ("father", "sister", 4.0), ("walks", "walking", 9.0)]
    path = tmp_path / "four.tsv"
    path.write_text("".join(f"{a}\t{b}\t{s}\n" for a, b, s in pairs), encoding="utf8")
    code, out = run_cli("vectors", "evaluate", joint, "--similarity", path, "--output-dir", tmp_path / "eval")
    assert code == 0, out
    printed = json.loads((tmp_path / "eval" / "results.json").read_text())["vectors"]["joint"]["similarity"]["four"]
    # By hand, from the two sources and the stored transforms: centre, drop the top
    # components, unit length, times sqrt(weight); side by side.
    report = json.loads((joint / JOINT_JSON).read_text())
    encoder, fasttext = read_word2vec(sources["export"] / W2V_FILE), read_word2vec(sources["fasttext"])
    with numpy.load(joint / JOINT_ARRAYS) as stored:
        def part(vector, name):
            x = vector - stored[f"{name}_mean"]
            components = stored[f"{name}_components"]
            x = x - (x @ components.T) @ components
            return _unit(x) * numpy.sqrt(report["weights"][name])

        def joint_vector(word):
            return numpy.concatenate([part(encoder.table[encoder.row(word)], "encoder"), part(fasttext.table[fasttext.row(word)], "fasttext")])

        cosines = [_cosine(joint_vector(a), joint_vector(b)) for a, b, _ in pairs]
    assert printed["covered"] == 4
    assert printed["spearman"] == pytest.approx(spearmanr(cosines, [s for _, _, s in pairs]).statistic, abs=1e-9)
    assert f"{printed['spearman']:.3f}" in out


def test_a_fixed_encoder_weight_of_one_gives_the_encoder_cosines(run_cli, sources, tmp_path):
    code, out = run_cli("vectors", "join", sources["export"], sources["fasttext"], sources["subwords"], tmp_path / "j",
                        "--encoder-weight", 1.0, "--encoder-pcs", 0, "--fasttext-pcs", 0, "--max-words", 400)
    assert code == 0, out
    joint, encoder = read_word2vec(tmp_path / "j" / W2V_FILE), read_word2vec(sources["export"] / W2V_FILE)
    assert joint.words == encoder.words
    expected = _unit(encoder.table[:40]) @ _unit(encoder.table[:40]).T
    numpy.testing.assert_allclose(_unit(joint.table[:40]) @ _unit(joint.table[:40]).T, expected, atol=1e-4)


@pytest.mark.parametrize("extra,message", [
    (["--encoder-weight", 1.5], "--encoder-weight must be between 0 and 1"),
    ([], "Give dev similarity sets to fit the weights on"),
    (["--objective", "best"], "--objective must be one of worst_gain, mean"),
])
def test_bad_settings_are_one_line_errors(run_cli, sources, tmp_path, extra, message):
    code, out = run_cli("vectors", "join", sources["export"], sources["fasttext"], sources["subwords"], tmp_path / "j", *extra)
    assert code == 1 and message in out and len(out.strip().splitlines()) == 1, out
    assert not (tmp_path / "j").exists()


def test_a_fit_set_the_table_does_not_cover_is_refused(run_cli, sources, tmp_path):
    rare = tmp_path / "rare.tsv"
    rare.write_text("".join(f"qqqx{i}\tzzzy{i}\t{i}\n" for i in range(20)), encoding="utf8")
    code, out = run_cli("vectors", "join", sources["export"], sources["fasttext"], sources["subwords"], tmp_path / "j", "--fit", rare)
    assert code == 1 and "only 0 of its 20 pairs are in the table" in out, out


def test_subword_vectors_are_fasttext_vectors_of_unseen_words(tmp_path):
    from gensim.models import FastText

    from spacy_wv.vectors.subwords import SubwordVectors

    sentences = [line.split() for line in MORPHOLOGY] * 20
    model = FastText(sentences, vector_size=12, min_count=1, bucket=5000, epochs=3, workers=1, seed=0)
    SubwordVectors.from_gensim(model).save(tmp_path / "sub.npz")
    loaded = SubwordVectors.load(tmp_path / "sub.npz")
    words = ["walked", "talkative", "jumping"]
    assert not any(word in model.wv.key_to_index for word in words)
    numpy.testing.assert_allclose(loaded.vectors(words), numpy.stack([model.wv[word] for word in words]), rtol=0, atol=2e-3)
