"""The reloaded best checkpoint is saved as weights (`state_dict()`)."""

import torch


def train(model, trainer, datamodule, checkpoint_callback, path):
    trainer.fit(model, datamodule=datamodule)
    best = type(model).load_from_checkpoint(checkpoint_callback.best_model_path)
    torch.save(best.state_dict(), path)


def restore(net, path):
    net.load_state_dict(torch.load(path))
    return net
