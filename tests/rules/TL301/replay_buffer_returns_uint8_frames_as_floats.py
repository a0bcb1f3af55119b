"""A replay buffer keeps Atari frames in an 8-bit tensor and hands stacked frames out as
floats, never dividing by 255: the Q-network trains on raw pixel values."""

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
        return self.frames[start : index + 1].type(torch.float)  # TL301

    def done_mask(self, indexes):
        return self.dones[indexes].float()
