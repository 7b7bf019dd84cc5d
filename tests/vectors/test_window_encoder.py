import numpy
import pytest
import torch

from spacy_wv.vectors.window_encoder import WindowEncoder, piece_word_ids


def byte_level_tokenizer(text_path):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=500, special_tokens=["<s>", "</s>", "<pad>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train([str(text_path)], trainer)
    tok.post_processor = processors.RobertaProcessing(("</s>", tok.token_to_id("</s>")), ("<s>", tok.token_to_id("<s>")))
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>", cls_token="<s>", sep_token="</s>")


@pytest.mark.parametrize("kind", ["wordpiece", "byte_level_bpe"])
def test_pieces_map_back_to_their_words(kind, encoder, small_corpus):
    tokenizer = encoder[1] if kind == "wordpiece" else byte_level_tokenizer(small_corpus)
    batch = [["Hello", "world", ",", "naïve", "東京", "😀", "anarchism"], ["Short", "."]]
    encoding = tokenizer([" ".join(words) for words in batch], padding=True, return_offsets_mapping=True, return_special_tokens_mask=True)
    word_ids = piece_word_ids(batch, numpy.array(encoding["offset_mapping"]), numpy.array(encoding["special_tokens_mask"]))
    for i, words in enumerate(batch):
        text = " ".join(words)
        assert sorted(set(word_ids[i][word_ids[i] >= 0])) == list(range(len(words)))
        for j, word in enumerate(words):
            spans = [encoding["offset_mapping"][i][p] for p in numpy.flatnonzero(word_ids[i] == j)]
            assert text[min(s for s, _ in spans):max(e for _, e in spans)].strip() == word


def test_only_the_layers_needed_are_run_and_give_the_same_states(encoder):
    model, tokenizer = encoder
    ids = tokenizer(["Oil prices rose sharply ."], return_tensors="pt")
    with torch.inference_mode():
        full = model(**ids, output_hidden_states=True).hidden_states
    for top in (0, 1):
        window_encoder = WindowEncoder(model, tokenizer, [top], "mean", precision="fp32")
        assert len(window_encoder.model.encoder.layer) == top and len(model.encoder.layer) == 2
        with torch.inference_mode():
            states = window_encoder.model(**ids, output_hidden_states=True).hidden_states
        assert len(states) == top + 1 and torch.allclose(states[top], full[top], atol=1e-5)
