import torch
from torch import nn


class ClickModel(nn.Module):
    """Click-through prediction from a user embedding and item features."""

    def __init__(self, n_users: int, n_item_features: int, dim: int = 16) -> None:
        super().__init__()
        self.user_emb = nn.Embedding(n_users, dim)
        self.item_proj = nn.Linear(n_item_features, dim)
        self.head = nn.Linear(2 * dim, 1)

    def forward(self, users, items):
        h = torch.cat([self.user_emb(users), self.item_proj(items)], dim=-1)
        return self.head(torch.relu(h)).squeeze(-1)
