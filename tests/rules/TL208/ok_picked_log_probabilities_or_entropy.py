import torch
import torch.nn.functional as F


def log_prob(logits, indices):
    # pick from the log-softmax: stable, and the gradient never vanishes
    return F.log_softmax(logits, dim=-1).gather(-1, indices[..., None])


def entropy(logits, eps=1e-8):
    # every probability weighs its own log: an underflowed term contributes nothing anyway
    p = F.softmax(logits, dim=1)
    return -(p * torch.log(p + eps)).sum(dim=1)


def confidence(logits, labels):
    # a slice of the probabilities, not the targets' entries, clamped on purpose
    probs = torch.softmax(logits, dim=1)
    return torch.log(probs[:, 0].clamp(min=1e-6)).mean()


def log_of_counts(counts, labels):
    # picked entries of something that is not a softmax
    return torch.log(counts.gather(1, labels) + 1e-8)


def masked_entropy(logits, valid, eps=1e-8):
    # the entropy of the valid rows: each log is weighed by its own probability
    probs = F.softmax(logits, dim=1)
    return -(probs[valid] * torch.log(probs[valid] + eps)).sum()
