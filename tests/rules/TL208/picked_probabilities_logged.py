import torch
import torch.nn.functional as F


def log(t, eps=1e-20):
    return torch.log(t.clamp(min=eps))  # TL208


def log_prob(prob, indices):
    # the picked entries reach `log` through two helpers
    return log(prob.gather(-1, indices[..., None]))


def sequence_log_prob(model, seq):
    prob = model(seq).softmax(dim=-1)
    return log_prob(prob, seq)


def policy_loss(logits, actions, advantages):
    probs = F.softmax(logits, dim=1)
    chosen = probs[torch.arange(len(actions)), actions]
    return -(torch.log(chosen) * advantages).mean()  # TL208


def clamped_policy_loss(logits, actions, advantages, eps=1e-8):
    probs = F.softmax(logits, dim=1)
    return -(torch.log(probs.gather(1, actions) + eps) * advantages).mean()  # TL208
