"""A Hugging Face `Trainer` subclass computes the loss itself: the model it was built with
returns a dict whose "scores" entry already went through a sigmoid, and `compute_loss` feeds
that entry to the BCE-with-logits loss."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import Trainer, TrainingArguments


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(16, 32)
        self.head = nn.Linear(32, 5)

    def forward(self, features, labels=None):
        hidden = torch.relu(self.body(features))
        return {"scores": torch.sigmoid(self.head(hidden)), "hidden": hidden}


class TaggingTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        loss = F.binary_cross_entropy_with_logits(outputs["scores"], labels)  # TL202
        return (loss, outputs) if return_outputs else loss


trainer = TaggingTrainer(model=Tagger(), args=TrainingArguments(output_dir="out"), train_dataset=[])
trainer.train()
