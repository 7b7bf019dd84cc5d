from transformers import AutoModel, AutoTokenizer


def test_tiny_encoder_loads_by_path(tiny_encoder_dir):
    tok = AutoTokenizer.from_pretrained(tiny_encoder_dir)
    model = AutoModel.from_pretrained(tiny_encoder_dir)
    out = model(**tok(["Anarchism is a political philosophy."], return_tensors="pt"))
    assert out.last_hidden_state.shape[-1] == 64
    assert tok.is_fast
