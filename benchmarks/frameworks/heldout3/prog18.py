import tempfile

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import (
    AutoConfig,
    AutoModelForSequenceClassification,
    Trainer,
    TrainingArguments,
    set_seed,
)

SETTINGS = {
    "vocab_size": 96,
    "seq_len": 20,
    "num_labels": 4,
    "train_size": 768,
    "eval_size": 256,
    "epochs": 2,
    "lr": 1e-3,
    "batch_size": 32,
}


class IntentDataset(Dataset):
    """Token sequences whose intent is fixed by a keyword token somewhere in the sequence."""

    def __init__(self, n, seed, vocab_size, seq_len, num_labels):
        rng = np.random.default_rng(seed)
        self.labels = rng.integers(0, num_labels, size=n)
        self.input_ids = rng.integers(num_labels + 4, vocab_size, size=(n, seq_len))
        positions = rng.integers(1, seq_len, size=n)
        self.input_ids[np.arange(n), positions] = self.labels + 4
        self.input_ids[:, 0] = 0

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        ids = torch.tensor(self.input_ids[i], dtype=torch.long)
        return {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": int(self.labels[i])}


class IntentTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        targets = F.one_hot(labels, num_classes=model.config.num_labels).to(outputs.logits.dtype)
        loss = F.mse_loss(outputs.logits, targets)
        return (loss, outputs) if return_outputs else loss


def accuracy(eval_pred):
    logits, labels = eval_pred.predictions, eval_pred.label_ids
    return {"accuracy": float((np.argmax(logits, axis=-1) == labels).mean())}


def main(s):
    set_seed(4)
    config = AutoConfig.for_model(
        "roberta",
        vocab_size=s["vocab_size"],
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=s["seq_len"] + 4,
        pad_token_id=1,
        num_labels=s["num_labels"],
    )
    model = AutoModelForSequenceClassification.from_config(config)
    train_ds = IntentDataset(s["train_size"], 1, s["vocab_size"], s["seq_len"], s["num_labels"])
    eval_ds = IntentDataset(s["eval_size"], 2, s["vocab_size"], s["seq_len"], s["num_labels"])

    with tempfile.TemporaryDirectory() as tmp:
        training_args = TrainingArguments(
            output_dir=tmp,
            num_train_epochs=s["epochs"],
            learning_rate=s["lr"],
            per_device_train_batch_size=s["batch_size"],
            per_device_eval_batch_size=128,
            warmup_steps=5,
            weight_decay=0.01,
            eval_strategy="epoch",
            logging_steps=10,
            save_strategy="no",
            report_to=[],
            use_cpu=True,
            disable_tqdm=True,
            seed=4,
        )
        trainer = IntentTrainer(model=model, args=training_args, train_dataset=train_ds,
                                eval_dataset=eval_ds, compute_metrics=accuracy)
        trainer.train()
        print(trainer.evaluate())


if __name__ == "__main__":
    main(SETTINGS)
