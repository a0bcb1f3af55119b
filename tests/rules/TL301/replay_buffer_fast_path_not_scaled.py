"""A DQN replay buffer stores Atari frames as uint8 and stacks four of them into a state. The
padded path (after an episode boundary) divides by 255; the common fast path only casts to
float, so most training states reach the Q-network as raw 0-255 values."""

import torch


class ReplayBuffer:
    def __init__(self, capacity, frame_shape, device):
        self.frames = torch.zeros((capacity,) + frame_shape, dtype=torch.uint8, device=device)
        self.dones = torch.zeros(capacity, dtype=torch.bool, device=device)
        self.device = device

    def state(self, i):
        if i >= 3 and not torch.any(self.dones[i - 3 : i]).item():
            return self.frames[i - 3 : i + 1].float()  # TL301
        state = torch.zeros((4,) + self.frames[i].shape, device=self.device)
        state[3] = self.frames[i]
        for j in range(1, 4):
            if self.dones[i - j]:
                break
            state[3 - j] = self.frames[i - j]
        return state / 255.0
