"""After training, the best checkpoint is reloaded through the model's own class
(`type(model).load_from_checkpoint`) and pickled whole, while the project's loader expects
weights (`load_state_dict`)."""

import torch


def train(model, trainer, datamodule, checkpoint_callback, path):
    trainer.fit(model, datamodule=datamodule)
    best = type(model).load_from_checkpoint(checkpoint_callback.best_model_path)
    torch.save(best, path)  # TL406


def restore(net, path):
    net.load_state_dict(torch.load(path))
    return net
