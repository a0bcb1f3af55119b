"""Imbalanced sentence classification with a class-weighted Trainer and callbacks."""
import tempfile

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import Dataset
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    Trainer,
    TrainerCallback,
    TrainingArguments,
    set_seed,
)

VOCAB, SEQ_LEN, NUM_LABELS = 300, 20, 3


class SkewedTextDataset(Dataset):
    def __init__(self, n, seed):
        rng = np.random.default_rng(seed)
        self.labels = rng.choice(NUM_LABELS, size=n, p=[0.7, 0.2, 0.1])
        self.ids = rng.integers(5, VOCAB, size=(n, SEQ_LEN))
        self.ids[:, 0] = 100 + 50 * self.labels + rng.integers(0, 10, size=n)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {
            "input_ids": torch.tensor(self.ids[i]),
            "attention_mask": torch.ones(SEQ_LEN, dtype=torch.long),
            "labels": torch.tensor(int(self.labels[i])),
        }


class WeightedLossTrainer(Trainer):
    def __init__(self, *args, class_weights=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.class_weights = class_weights

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        logits = outputs.logits
        loss_fct = nn.CrossEntropyLoss(weight=self.class_weights.to(logits.device))
        loss = loss_fct(logits.view(-1, self.model.config.num_labels), labels.view(-1))
        return (loss, outputs) if return_outputs else loss


class LossHistoryCallback(TrainerCallback):
    def __init__(self):
        self.train_losses, self.eval_metrics = [], []

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            self.train_losses.append((state.global_step, logs["loss"]))

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        self.eval_metrics.append(metrics)


class StopOnTargetCallback(TrainerCallback):
    def __init__(self, metric="eval_macro_f1", target=0.99):
        self.metric, self.target = metric, target

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if metrics and metrics.get(self.metric, 0.0) >= self.target:
            control.should_training_stop = True


def compute_metrics(eval_pred):
    logits, labels = eval_pred
    preds = logits.argmax(-1)
    f1s = []
    for c in range(NUM_LABELS):
        tp = np.sum((preds == c) & (labels == c))
        fp = np.sum((preds == c) & (labels != c))
        fn = np.sum((preds != c) & (labels == c))
        f1s.append(2 * tp / max(2 * tp + fp + fn, 1))
    return {"macro_f1": float(np.mean(f1s)), "accuracy": float((preds == labels).mean())}


def main():
    set_seed(0)
    train_ds, eval_ds = SkewedTextDataset(480, seed=0), SkewedTextDataset(120, seed=1)
    counts = np.bincount(train_ds.labels, minlength=NUM_LABELS)
    class_weights = torch.tensor(len(train_ds) / (NUM_LABELS * counts), dtype=torch.float)

    config = BertConfig(vocab_size=VOCAB, hidden_size=48, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=96, max_position_embeddings=SEQ_LEN, num_labels=NUM_LABELS)
    model = BertForSequenceClassification(config)

    history = LossHistoryCallback()
    args = TrainingArguments(
        output_dir=tempfile.mkdtemp(prefix="weighted_"),
        num_train_epochs=4,
        per_device_train_batch_size=32,
        per_device_eval_batch_size=64,
        learning_rate=5e-4,
        weight_decay=0.01,
        lr_scheduler_type="linear",
        warmup_steps=5,
        eval_strategy="epoch",
        logging_steps=5,
        save_strategy="no",
        report_to=[],
        use_cpu=True,
        seed=0,
    )
    trainer = WeightedLossTrainer(
        model=model,
        args=args,
        train_dataset=train_ds,
        eval_dataset=eval_ds,
        compute_metrics=compute_metrics,
        callbacks=[history, StopOnTargetCallback()],
        class_weights=class_weights,
    )
    trainer.train()
    print("last train losses:", history.train_losses[-3:])
    print("eval history:", [round(m["eval_macro_f1"], 3) for m in history.eval_metrics])


if __name__ == "__main__":
    main()
