"""Joint vectors against their parts and same-corpus fastText, on the pairs and
questions that every row covers.

    python benchmarks/joint_vectors.py ENCODER_EXPORT FASTTEXT SUBWORDS [--data ../shared/data] [--out rows.jsonl]

ENCODER_EXPORT is a `vectors export` directory, FASTTEXT and SUBWORDS what `vectors
fasttext --subwords` wrote on the same text (the workflow's `export-vectors` and
`fasttext` steps). Rows:
- fastText: the table as trained;
- encoder: the export's table as written;
- encoder part / fastText part: each post-processed as the joint chose, alone;
- joint (fit on both): weights and components chosen on WS353 + SimLex-999 (what `vectors join` does,
  maximising the smallest gain over fastText); joint (mean objective): the best mean rho instead;
- joint (fit on the other set): WS353 scored with weights chosen on SimLex-999 and the
  reverse, a check that the fit does not merely learn the set it is scored on.

Every row is scored on one vocabulary: the words all tables hold (no composed or
subword-only vector), so coverage is the same for all. Analogy candidates are the
`--top-n` most frequent of those words.
"""
import argparse
import time
from pathlib import Path

import numpy

from spacy_wv.vectors.analogy import evaluate_analogies, read_analogies
from spacy_wv.vectors.joint import PARTS, JointSettings, fasttext_part, fit_transforms, joint_vocabulary, keyed_pairs
from spacy_wv.vectors.similarity import WordPairs, evaluate_similarity, read_word_pairs
from spacy_wv.vectors.subwords import SubwordVectors
from spacy_wv.vectors.tables import StaticVectors, read_word2vec
from spacy_wv.vectors.wordvectors import WordVectors

from harness import append_rows, markdown_table  # benchmarks/


def shared_pairs(pairs: WordPairs, vocabulary: set) -> WordPairs:
    keep = [i for i, (a, b) in enumerate(pairs.pairs) if a.lower() in vocabulary and b.lower() in vocabulary]
    return WordPairs(pairs.name, [(pairs.pairs[i][0].lower(), pairs.pairs[i][1].lower()) for i in keep], pairs.scores[keep])


def score(name: str, words, table: numpy.ndarray, similarity_sets, questions, top_n: int, covered_of) -> dict:
    vectors = StaticVectors(list(words), table)
    row = {"name": name}
    for pairs in similarity_sets:
        result = evaluate_similarity(vectors, pairs)
        row[pairs.name] = result["spearman"]
        row[f"{pairs.name} pairs"] = f"{result['covered']}/{covered_of[pairs.name]}"
    analogy = evaluate_analogies(StaticVectors(list(words[:top_n]), table[:top_n]), questions)
    for method in ("3CosAdd", "3CosMul"):
        for part in ("overall", "semantic", "syntactic"):
            row[f"{method} {part}"] = analogy[method][part]
    row["analogy coverage"] = analogy["coverage"]
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("encoder_export", type=Path)
    parser.add_argument("fasttext", type=Path)
    parser.add_argument("subwords", type=Path)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--top-n", type=int, default=30_000)
    parser.add_argument("--out", type=Path, default=None, help="append the rows here as JSON lines")
    args = parser.parse_args()

    start = time.perf_counter()
    encoder_vectors = WordVectors.load(args.encoder_export)
    fasttext, subwords = read_word2vec(args.fasttext), SubwordVectors.load(args.subwords)
    words = joint_vocabulary(encoder_vectors.table.words, fasttext.words, encoder_vectors.lowercase, None)
    encoder_raw, _ = encoder_vectors.lookup(words)
    parts = {"encoder": encoder_raw, "fasttext": fasttext_part(words, fasttext, subwords)}
    rows_of = {word: i for i, word in enumerate(words)}
    print(f"{len(words):,} joint words, parts ready in {time.perf_counter() - start:.0f} s")

    # One vocabulary for every row: words each table holds itself.
    in_both = [i for i, word in enumerate(words) if encoder_vectors.table.row(word) is not None and fasttext.row(word) is not None]
    vocabulary = {words[i] for i in in_both}
    wordsim = args.data / "wordsim"
    full_sets = [read_word_pairs(wordsim / "ws353_all.tsv"), read_word_pairs(wordsim / "simlex999.tsv")]
    fit_sets = [keyed_pairs(p, encoder_vectors.lowercase) for p in full_sets]
    similarity_sets = [shared_pairs(p, vocabulary) for p in full_sets]
    covered_of = {p.name: len(p.pairs) for p in full_sets}
    questions = read_analogies(args.data / "analogy" / "questions-words.txt")
    shared_words = [words[i] for i in in_both]

    def rows_for(transforms):
        table = numpy.hstack([transforms[name].apply(parts[name][in_both]) for name in PARTS])
        return table

    transforms, fit = fit_transforms(parts, rows_of, fit_sets, JointSettings())
    chosen = fit["chosen"]
    print(f"Fit on both: encoder weight {chosen['encoder_weight']}, pcs encoder {chosen['encoder_pcs']}, fastText {chosen['fasttext_pcs']}")
    table_rows = [
        score("fastText", shared_words, parts["fasttext"][in_both], similarity_sets, questions, args.top_n, covered_of),
        score("encoder", shared_words, parts["encoder"][in_both], similarity_sets, questions, args.top_n, covered_of),
        score(f"encoder part (pcs {chosen['encoder_pcs']})", shared_words, transforms["encoder"].apply(parts["encoder"][in_both]),
              similarity_sets, questions, args.top_n, covered_of),
        score(f"fastText part (pcs {chosen['fasttext_pcs']})", shared_words, transforms["fasttext"].apply(parts["fasttext"][in_both]),
              similarity_sets, questions, args.top_n, covered_of),
        score(f"joint (fit on both, w={chosen['encoder_weight']})", shared_words, rows_for(transforms), similarity_sets, questions,
              args.top_n, covered_of),
    ]
    by_mean, mean_fit = fit_transforms(parts, rows_of, fit_sets, JointSettings(objective="mean"))
    table_rows.append(score(f"joint (mean objective, w={mean_fit['chosen']['encoder_weight']}, pcs {mean_fit['chosen']['encoder_pcs']}/"
                            f"{mean_fit['chosen']['fasttext_pcs']})", shared_words, rows_for(by_mean), similarity_sets, questions, args.top_n, covered_of))
    for held_out, fit_on in ((0, 1), (1, 0)):
        other, other_fit = fit_transforms(parts, rows_of, [fit_sets[fit_on]], JointSettings())
        row = score(f"joint (fit on {fit_sets[fit_on].name}, w={other_fit['chosen']['encoder_weight']})", shared_words, rows_for(other),
                    [similarity_sets[held_out]], questions, args.top_n, covered_of)
        table_rows.append(row)
    columns = ["ws353_all", "simlex999", "3CosAdd overall", "3CosAdd semantic", "3CosAdd syntactic", "3CosMul overall", "analogy coverage"]
    print(f"\nScored on {len(vocabulary):,} words both tables hold; pairs: "
          + ", ".join(f"{p.name} {len(p.pairs)}/{covered_of[p.name]}" for p in similarity_sets))
    print(markdown_table(["vectors", *columns], [[row["name"], *(f"{row[c]:.3f}" if c in row else "" for c in columns)]
                                                 for row in table_rows], "l" + "r" * len(columns)))
    print(f"({time.perf_counter() - start:.0f} s in all)")
    if args.out:
        append_rows(args.out, [{**row, "encoder_export": str(args.encoder_export), "fasttext": str(args.fasttext)}
                               for row in table_rows])


if __name__ == "__main__":
    main()
