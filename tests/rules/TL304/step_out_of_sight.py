"""The model comes from a factory out of sight (`model.optimize_parameters()` runs the backward),
so only the loader's name says the inner loop trains: a shuffling sampler still needs its epoch."""
from torch.utils.data import DataLoader, DistributedSampler

from models.select import define_model
from data.select import define_dataset


def main(opt):
    train_set = define_dataset(opt["train"])
    train_sampler = DistributedSampler(train_set, shuffle=opt["train"]["shuffle"], drop_last=True)  # TL304
    train_loader = DataLoader(train_set, batch_size=16, shuffle=False, sampler=train_sampler)
    model = define_model(opt)
    for epoch in range(100):
        for i, batch in enumerate(train_loader):
            model.feed_data(batch)
            model.optimize_parameters(i)
