"""Chinese word vectors: export jieba words from a tiny encoder on a real slice, evaluate on
the real wordsim-240, CA8 and CA_translated files."""
import numpy
import pytest
from scipy.stats import spearmanr

from spacy_wv.vectors.analogy import read_analogies
from spacy_wv.hf_dirs import load_encoder
from spacy_wv.vectors.evaluate import evaluate_sources
from spacy_wv.corpus.word_lines import iter_word_lines, make_segmenter
from spacy_wv.vectors.export import ExportSettings, export_vectors
from spacy_wv.vectors.similarity import evaluate_similarity, read_word_pairs
from spacy_wv.vectors.sources import StaticSource, load_source
from spacy_wv.vectors.tables import W2V_FILE, StaticVectors, write_spacy_vectors, write_word2vec

from ..checks import cosine


@pytest.fixture(scope="module")
def small_slice(zh_slice, tmp_path_factory):
    out = tmp_path_factory.mktemp("zh_vec") / "small.txt"
    out.write_text(zh_slice.read_text(encoding="utf8")[:60_000], encoding="utf8")
    return out


def test_contexts_are_jieba_words(small_slice):
    words = [w for line in iter_word_lines([small_slice], make_segmenter(segmenter="jieba")) for w in line]
    assert any(len(w) > 1 for w in words) and not any(w.isspace() for w in words)
    chars = [w for line in iter_word_lines([small_slice], make_segmenter(segmenter="char")) for w in line]
    assert len(chars) > len(words)


def test_export_and_evaluate_chinese_vectors(zh_encoder_dir, small_slice, data_dir, tmp_path):
    model, tokenizer = load_encoder(zh_encoder_dir)
    result = export_vectors(model, tokenizer, [small_slice], ExportSettings(n_words=2000, contexts=2, window=5, segmenter="jieba"))
    assert "中国" in result.words and "发展" in result.words
    assert result.table.shape == (len(result.words), 64)
    write_spacy_vectors(tmp_path / "vec", result.words, result.table)
    write_word2vec(tmp_path / "vec" / W2V_FILE, result.words, result.table)
    source = load_source(tmp_path / "vec" / W2V_FILE, "ours")
    sim = data_dir / "zh_wordsim" / "wordsim240.tsv"
    results = evaluate_sources([source], [sim], data_dir / "zh_analogy" / "CA_translated.txt", 2000)
    entry = results["vectors"]["ours"]
    (pairs,) = entry["similarity"].values()
    assert 0 < pairs["coverage"] < 1
    # The score recomputed with scipy from the table written, on the pairs it covers.
    table = {word: vector for word, vector in zip(source.table.words, source.table.table.astype("float64"))}
    word_pairs = read_word_pairs(sim)
    covered = [(table[a], table[b], score) for (a, b), score in zip(word_pairs.pairs, word_pairs.scores) if a in table and b in table]
    cosines = [cosine(a, b) for a, b, _ in covered]
    assert pairs["covered"] == len(covered)
    assert pairs["spearman"] == pytest.approx(spearmanr(cosines, [s for _, _, s in covered]).statistic, abs=1e-9)
    # The evaluation ranks word pairs, not a table's rows: rows shuffled among the words
    # score well below a table whose cosines follow the human scores.
    made = numpy.zeros((len(source.table.words), 2))
    made[:, 0] = 1.0
    index = {word: i for i, word in enumerate(source.table.words)}
    for i, (a, b) in enumerate(word_pairs.pairs):
        if a in index and b in index and made[index[b], 1] == 0 and index[a] != index[b]:
            made[index[b]] = [numpy.cos(1 - word_pairs.scores[i] / 10), numpy.sin(1 - word_pairs.scores[i] / 10)]
    good = evaluate_similarity(StaticSource("made", StaticVectors(source.table.words, made.astype("float32"))), word_pairs)
    shuffled = evaluate_similarity(StaticSource("shuffled", StaticVectors(source.table.words, made[numpy.random.default_rng(0).permutation(len(made))].astype("float32"))), word_pairs)
    assert good["spearman"] > 0.5 and shuffled["spearman"] < good["spearman"] - 0.3, (good, shuffled)
    assert 0 <= entry["analogy"]["coverage"] < 1


def test_chinese_benchmark_files_are_read(data_dir):
    pairs = read_word_pairs(data_dir / "zh_wordsim" / "wordsim240.tsv")
    assert len(pairs.pairs) == 240
    assert len(read_analogies(data_dir / "zh_analogy" / "CA8_morphological.txt")) == 10177
    assert len(read_analogies(data_dir / "zh_analogy" / "CA_translated.txt")) == 953
