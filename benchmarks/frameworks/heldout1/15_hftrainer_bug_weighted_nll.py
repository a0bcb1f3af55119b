"""Imbalanced intent classification: HF Trainer subclass with class-weighted loss."""
import tempfile

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset
from transformers import (
    DistilBertConfig,
    DistilBertForSequenceClassification,
    Trainer,
    TrainingArguments,
)

LABEL_FREQS = [0.7, 0.2, 0.1]


class IntentDataset(Dataset):
    def __init__(self, n, seq_len=20, vocab=400, seed=0):
        rng = np.random.default_rng(seed)
        self.labels = rng.choice(len(LABEL_FREQS), size=n, p=LABEL_FREQS)
        ids = rng.integers(10, vocab, size=(n, seq_len))
        ids[:, 1] = 3 + self.labels * 2 + rng.integers(0, 2, size=n)
        ids[:, 0] = 1
        self.input_ids = ids

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {
            "input_ids": torch.tensor(self.input_ids[i], dtype=torch.long),
            "attention_mask": torch.ones(self.input_ids.shape[1], dtype=torch.long),
            "labels": torch.tensor(self.labels[i], dtype=torch.long),
        }


class WeightedLossTrainer(Trainer):
    def __init__(self, *args, class_weights=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.class_weights = class_weights

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        logits = outputs.get("logits")
        loss_fct = nn.NLLLoss(weight=self.class_weights.to(logits.device))
        loss = loss_fct(logits.view(-1, self.model.config.num_labels), labels.view(-1))
        return (loss, outputs) if return_outputs else loss


def accuracy(eval_pred):
    logits, labels = eval_pred
    return {"accuracy": float((logits.argmax(-1) == labels).mean())}


if __name__ == "__main__":
    torch.manual_seed(0)
    train_ds = IntentDataset(600, seed=1)
    eval_ds = IntentDataset(120, seed=2)
    counts = np.bincount(train_ds.labels, minlength=len(LABEL_FREQS))
    weights = torch.tensor(len(train_ds) / (len(counts) * counts), dtype=torch.float)

    config = DistilBertConfig(
        vocab_size=400, dim=32, n_layers=2, n_heads=2, hidden_dim=64,
        max_position_embeddings=32, num_labels=len(LABEL_FREQS),
    )
    model = DistilBertForSequenceClassification(config)

    training_args = TrainingArguments(
        output_dir=tempfile.mkdtemp(prefix="intent-"),
        learning_rate=3e-4,
        per_device_train_batch_size=16,
        per_device_eval_batch_size=64,
        num_train_epochs=2,
        eval_strategy="epoch",
        save_strategy="no",
        logging_strategy="epoch",
        report_to=[],
        use_cpu=True,
        disable_tqdm=True,
        seed=0,
    )
    trainer = WeightedLossTrainer(
        model=model,
        args=training_args,
        train_dataset=train_ds,
        eval_dataset=eval_ds,
        compute_metrics=accuracy,
        class_weights=weights,
    )
    trainer.train()
    print(trainer.evaluate())
