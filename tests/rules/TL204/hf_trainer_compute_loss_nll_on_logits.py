"""A Trainer subclass weighs the classes with `NLLLoss`, but a Hugging Face classification
model's `logits` are raw scores from its linear head, not log-probabilities."""

from torch import nn
from transformers import Trainer


class WeightedTrainer(Trainer):
    def __init__(self, *args, class_weights=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.class_weights = class_weights

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        loss_fct = nn.NLLLoss(weight=self.class_weights)
        loss = loss_fct(outputs.logits, labels)  # TL204
        return (loss, outputs) if return_outputs else loss
