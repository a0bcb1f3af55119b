"""A discrete-action policy whose `forward` takes `softmax_dim=0` (written for one unbatched
state): the training update passes `softmax_dim=-1` on batches, but `get_action` adds a batch
axis with `unsqueeze(0)` and keeps the default, so the softmax runs over the batch of one and
every probability is 1. The value network's `forward` is only called unbatched."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Categorical


class PolicyNetwork(nn.Module):
    def __init__(self, num_inputs: int, num_actions: int, hidden: int = 64) -> None:
        super().__init__()
        self.body = nn.Linear(num_inputs, hidden)
        self.head = nn.Linear(hidden, num_actions)

    def forward(self, state: torch.Tensor, softmax_dim: int = 0) -> torch.Tensor:
        return F.softmax(self.head(torch.tanh(self.body(state))), dim=softmax_dim)  # TL207

    def log_probs(self, states: torch.Tensor) -> torch.Tensor:
        return torch.log(self.forward(states, softmax_dim=-1))

    def get_action(self, state: np.ndarray) -> int:
        state_t = torch.FloatTensor(state).unsqueeze(0)
        probs = self.forward(state_t)
        return int(Categorical(probs).sample().item())


class SingleStatePolicy(nn.Module):
    def __init__(self, num_inputs: int, num_actions: int) -> None:
        super().__init__()
        self.head = nn.Linear(num_inputs, num_actions)

    def pi(self, x: torch.Tensor, softmax_dim: int = 0) -> torch.Tensor:
        return F.softmax(self.head(x), dim=softmax_dim)  # ok: called on one unbatched state

    def act(self, state: np.ndarray) -> int:
        probs = self.pi(torch.from_numpy(state).float())
        return int(Categorical(probs).sample().item())
