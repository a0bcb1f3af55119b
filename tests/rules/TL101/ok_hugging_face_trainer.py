"""A Hugging Face `Trainer` subclass overriding `compute_loss`; the Trainer runs the loop."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import Trainer, TrainingArguments


class TinyClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))

    def forward(self, features, labels=None):
        logits = self.net(features)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return {"loss": loss, "logits": logits}


class WeightedTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, **kwargs):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        loss = F.cross_entropy(outputs["logits"], labels, weight=torch.tensor([1.0, 2.0, 1.0]))
        return (loss, outputs) if return_outputs else loss


train_ds = [{"features": torch.randn(20), "labels": int(i % 3)} for i in range(256)]
eval_ds = [{"features": torch.randn(20), "labels": int(i % 3)} for i in range(64)]
args = TrainingArguments(
    output_dir="out",
    num_train_epochs=1,
    per_device_train_batch_size=16,
    learning_rate=2e-5,
    max_grad_norm=1.0,
    lr_scheduler_type="linear",
    warmup_ratio=0.1,
)
trainer = WeightedTrainer(model=TinyClassifier(), args=args, train_dataset=train_ds, eval_dataset=eval_ds)
trainer.train()
trainer.evaluate()
