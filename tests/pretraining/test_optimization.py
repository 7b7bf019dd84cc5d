import math

import pytest
import torch
from transformers import BertConfig, BertForMaskedLM

from spacy_wv.errors import UserError
from spacy_wv.pretraining.optimization import adamw, warmup_decay


def test_warmup_then_cosine_to_the_floor():
    schedule = warmup_decay(warmup_steps=10, decay="cosine", min_lr_ratio=0.1)
    assert schedule(1, 0.001) == pytest.approx(0.1)
    assert schedule(5, 0.005) == pytest.approx(0.5)
    assert schedule(10, 0.01) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.01)))
    assert schedule(500, 0.5) == pytest.approx(0.55)
    assert schedule(1000, 1.0) == pytest.approx(0.1)
    values = [schedule(s, s / 1000) for s in range(10, 1001)]
    assert all(a >= b for a, b in zip(values, values[1:]))


def test_linear_decay_follows_progress_not_steps():
    schedule = warmup_decay(warmup_steps=0, decay="linear", min_lr_ratio=0.0)
    # With a time budget, progress is the elapsed fraction: the step count does not matter.
    assert schedule(3, 0.25) == pytest.approx(0.75) == schedule(3000, 0.25)
    assert schedule(10, 1.2) == pytest.approx(0.0)


def test_no_weight_decay_on_biases_and_layer_norms():
    model = BertForMaskedLM(BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64))
    optimizer = adamw(lr=0.001, weight_decay=0.05).build(model)
    decayed, not_decayed = optimizer.param_groups
    assert decayed["weight_decay"] == 0.05 and not_decayed["weight_decay"] == 0.0
    names = {id(p): n for n, p in model.named_parameters()}
    assert all(names[id(p)].endswith("weight") and "LayerNorm" not in names[id(p)] for p in decayed["params"])
    assert all(names[id(p)].endswith("bias") or "LayerNorm" in names[id(p)] for p in not_decayed["params"])
    assert len(decayed["params"]) + len(not_decayed["params"]) == len(list(model.parameters()))


@pytest.mark.parametrize("settings,message", [
    ({"lr": 0.0}, "lr"), ({"betas": [0.9]}, "betas"), ({"eps": -1.0}, "eps"),
    ({"weight_decay": -0.1}, "weight_decay"), ({"grad_clip": -1.0}, "grad_clip"),
])
def test_bad_optimizer_values(settings, message):
    with pytest.raises(UserError, match=message):
        adamw(**settings)


def test_bad_schedule_values():
    with pytest.raises(UserError, match="warmup_steps"):
        warmup_decay(warmup_steps=-1)
    with pytest.raises(UserError, match="min_lr_ratio"):
        warmup_decay(min_lr_ratio=2.0)


def test_optimizer_updates_parameters():
    layer = torch.nn.Linear(4, 4)
    before = layer.weight.detach().clone()
    optimizer = adamw(lr=0.01).build(layer)
    layer(torch.ones(2, 4)).sum().backward()
    optimizer.step()
    assert not torch.equal(before, layer.weight)
