"""A softmax applied on one path only (`if self.reward_ids is not None:`) still reaches the
cross-entropy after the `if` on that path; the other path's value is unknown here."""
import torch
import torch.nn as nn


class RewardLoss(nn.Module):
    def __init__(self, placeholder_id: int, reward_ids=None) -> None:
        super().__init__()
        self.loss = nn.CrossEntropyLoss(ignore_index=-100)
        self.placeholder_id = placeholder_id
        self.reward_ids = reward_ids

    def forward(self, inputs: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor):
        mask = inputs == self.placeholder_id
        logits = logits[mask]
        labels = labels[mask]
        if self.reward_ids is not None:
            logits = logits[..., self.reward_ids]
            logits = logits.softmax(dim=-1)
        return self.loss(logits, labels)  # TL201
