import torch.nn as nn


def clip_gradients(model, config):
    # a correct utility: whether it helps depends on where it is called
    if config["clip_mode"] == "all":
        return nn.utils.clip_grad_norm_(model.parameters(), config["max_norm"])
    return nn.utils.clip_grad_value_(model.parameters(), config["max_value"])
