"""The same buffer scales the frames it hands out; the 1-D done flags are cast as they are."""

import torch


class FrameBuffer:
    def __init__(self, capacity, frame_shape, history=4, device="cpu"):
        self.frames = torch.zeros((capacity,) + frame_shape, dtype=torch.uint8, device=device)
        self.dones = torch.zeros(capacity, dtype=torch.uint8, device=device)
        self.history = history
        self.back = -1

    def add(self, frame, done):
        self.back = (self.back + 1) % len(self.frames)
        self.frames[self.back] = torch.as_tensor(frame)
        self.dones[self.back] = int(done)

    def state(self, index):
        start = index - self.history + 1
        return self.frames[start : index + 1].type(torch.float) / 255.0

    def done_mask(self, indexes):
        return self.dones[indexes].float()


class QNetwork(torch.nn.Module):
    """Scales the raw frames itself, as many Atari agents do."""

    def __init__(self, actions):
        super().__init__()
        self.conv = torch.nn.Conv2d(4, 32, 8, stride=4)
        self.head = torch.nn.Linear(32 * 20 * 20, actions)

    def forward(self, frames):
        return self.head(torch.relu(self.conv(frames / 255.0)).flatten(1))
