"""An observation preprocessor scales image observations and casts the others (vectors,
one-hot actions) as they are: the paths get different kinds of data, chosen by the test."""

import torch
import torch.nn.functional as F


def preprocess(obs: torch.Tensor, space, normalize_images: bool = True) -> torch.Tensor:
    if space.kind == "box":
        if normalize_images and space.is_image:
            return obs.float() / 255.0
        return obs.float()
    if isinstance(space.n, int):
        return F.one_hot(obs.long(), num_classes=space.n).float()
    return obs.float()
