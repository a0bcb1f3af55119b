"""Hugging Face `Trainer`, with the real packages (CI's `frameworks` extra; skipped without
them). No model is downloaded: a tiny BERT is built from a config in the script."""

from __future__ import annotations

import json
import textwrap

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("accelerate")

from tests.runtime.tracer_helpers import run_cli  # noqa: E402

TINY_BERT = textwrap.dedent(
    """\
    import torch
    from torch.utils.data import Dataset
    from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments

    torch.manual_seed(0)


    class Toy(Dataset):
        def __len__(self):
            return 256

        def __getitem__(self, i):
            g = torch.Generator().manual_seed(i)
            ids = torch.randint(5, 500, (32,), generator=g)
            return {"input_ids": ids, "attention_mask": torch.ones(32, dtype=torch.long), "labels": int(ids[0] % 2)}


    config = BertConfig(
        vocab_size=500, hidden_size=64, num_hidden_layers=4, num_attention_heads=4, intermediate_size=128
    )
    model = BertForSequenceClassification(config)
    args = TrainingArguments(
        output_dir="out",
        per_device_train_batch_size=16,
        learning_rate=LR,
        num_train_epochs=1,
        report_to=[],
        use_cpu=True,
        save_strategy="no",
        logging_strategy="no",
        disable_tqdm=True,
    )
    Trainer(model=model, args=args, train_dataset=Toy()).train()
    """
)


def trace(tmp_path, lr: str):
    (tmp_path / "train.py").write_text(TINY_BERT.replace("LR", lr))
    proc = run_cli(tmp_path, ["train.py", "--steps", "2", "--output-format", "json"], timeout=240)
    return proc.returncode, json.loads(proc.stdout)


def test_a_fresh_correct_bert_under_the_trainer_is_clean(tmp_path):
    """Its attention projections get tiny gradients at initialisation in every block: not a
    vanishing gradient, and the run must not fail."""
    rc, out = trace(tmp_path, "5e-5")
    assert rc == 0, out
    assert [d["code"] for d in out["diagnostics"]] == []
    assert out["trace"]["steps_completed"] == 2


def test_a_learning_rate_far_too_high_in_training_arguments_is_reported(tmp_path):
    rc, out = trace(tmp_path, "5.0")
    assert "TL501" in [d["code"] for d in out["diagnostics"]]
