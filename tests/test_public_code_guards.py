"""Patterns from well-known public training code that must stay silent (false positives found
by running trainlint over public repositories; the snippets here are written for this test)."""

from __future__ import annotations

import textwrap

from trainlint.testing import lint_source


def codes(src: str) -> list:
    return [d.code for d in lint_source(textwrap.dedent(src))]


def test_zero_init_of_the_head_chosen_by_name_is_not_bad_init():
    src = """
    import torch.nn as nn

    def init_weights(module: nn.Module, name: str = "") -> None:
        if isinstance(module, nn.Linear):
            if name.startswith("head"):
                nn.init.zeros_(module.weight)
                nn.init.zeros_(module.bias)
            else:
                nn.init.xavier_uniform_(module.weight)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Linear(8, 8)
            self.head = nn.Linear(8, 2)

    net = Net()
    for n, m in net.named_modules():
        init_weights(m, n)
    """
    assert "TL401" not in codes(src)


def test_zero_init_of_every_linear_layer_still_fires():
    src = """
    import torch.nn as nn

    def init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.zeros_(module.weight)

    net = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))
    net.apply(init_weights)
    """
    assert "TL401" in codes(src)


def test_unit_tests_calling_a_module_are_not_evaluation_passes():
    src = """
    import torch
    import torch.nn as nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.drop = nn.Dropout(0.5)

        def forward(self, x):
            return self.drop(x)

    def test_eval_mode_is_identity():
        block = Block()
        block.eval()
        x = torch.ones(2, 3)
        for _ in range(3):
            assert torch.equal(block(x), x)
    """
    assert not {"TL403", "TL404"} & set(codes(src))


def test_a_tokenizer_loaded_with_from_pretrained_is_not_a_model():
    src = """
    import torch
    from transformers import GPT2Tokenizer, GPT2LMHeadModel

    tokenizer = GPT2Tokenizer.from_pretrained("gpt2")
    model = GPT2LMHeadModel.from_pretrained("gpt2")
    model.eval()
    with torch.no_grad():
        for prompt in ["a", "b"]:
            ids = tokenizer(prompt, return_tensors="pt")
            out = model(**ids)
    """
    assert codes(src) == []
