import torch
from transformers import AutoModelForMaskedLM, BertConfig, BertForMaskedLM

from spacy_wv.pretraining.checkpoint import (
    STATE_DIR, latest_checkpoint, load_checkpoint, rng_state, save_checkpoint, set_rng_state, step_dirs,
)
from spacy_wv.pretraining.optimization import adamw


def tiny_model(seed: int):
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=200, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64)
    return BertForMaskedLM(config)


def trained(seed: int):
    model = tiny_model(seed)
    optimizer = adamw(lr=0.01).build(model)
    for _ in range(2):
        out = model(input_ids=torch.randint(5, 200, (2, 16)), labels=torch.randint(5, 200, (2, 16)))
        out.loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return model, optimizer


def test_round_trip_restores_weights_optimizer_rng_and_state(tmp_path):
    model, optimizer = trained(0)
    generator = torch.Generator().manual_seed(42)
    rng = [rng_state(generator)]
    state = {"step": 2, "tokens": 64, "elapsed_s": 1.5, "sampler": {"epoch": 0, "cursor": 4}, "config_hash": "abc", "world_size": 1}
    step_dir = save_checkpoint(tmp_path, 2, model, optimizer, rng, state, keep=2)
    expected_draw = torch.rand(3, generator=generator)
    expected_dropout_draw = torch.rand(3)

    other, other_optimizer = trained(1)
    loaded = load_checkpoint(step_dir, other, other_optimizer)
    for (name, a), b in zip(model.state_dict().items(), other.state_dict().values()):
        assert torch.equal(a, b), name
    saved_opt, loaded_opt = optimizer.state_dict(), other_optimizer.state_dict()
    assert saved_opt["param_groups"] == loaded_opt["param_groups"]
    for key, values in saved_opt["state"].items():
        for name, tensor in values.items():
            assert torch.equal(tensor, loaded_opt["state"][key][name])
    assert {k: loaded[k] for k in state} == state
    fresh = torch.Generator()
    set_rng_state(loaded["rng"][0], fresh)
    assert torch.equal(torch.rand(3, generator=fresh), expected_draw)
    assert torch.equal(torch.rand(3), expected_dropout_draw)


def test_output_dir_is_a_loadable_hf_model_and_old_steps_are_pruned(tmp_path):
    model, optimizer = trained(0)
    state = {"step": 0, "config_hash": "abc"}
    for step in (1, 2, 3):
        save_checkpoint(tmp_path, step, model, optimizer, [rng_state(torch.Generator())], {**state, "step": step}, keep=2)
    assert [p.name for p in step_dirs(tmp_path)] == ["step_0000002", "step_0000003"]
    assert latest_checkpoint(tmp_path).name == "step_0000003"
    reloaded = AutoModelForMaskedLM.from_pretrained(tmp_path)
    assert torch.equal(reloaded.bert.embeddings.word_embeddings.weight, model.bert.embeddings.word_embeddings.weight)
    assert not [p for p in (tmp_path / STATE_DIR).iterdir() if p.name.startswith(".tmp")]


def test_an_unfinished_step_dir_is_never_resumed_from(tmp_path):
    model, optimizer = trained(0)
    save_checkpoint(tmp_path, 4, model, optimizer, [rng_state(torch.Generator())], {"step": 4}, keep=2)
    # What a kill during the next save leaves behind: a temp dir, never renamed.
    (tmp_path / STATE_DIR / ".tmp_step_0000008").mkdir()
    assert latest_checkpoint(tmp_path).name == "step_0000004"
    save_checkpoint(tmp_path, 8, model, optimizer, [rng_state(torch.Generator())], {"step": 8}, keep=2)
    assert latest_checkpoint(tmp_path).name == "step_0000008"
