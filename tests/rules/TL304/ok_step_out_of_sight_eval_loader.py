"""A loader named for evaluation, read in an epoch loop whose step is out of sight: its order
does not matter, and nothing says a loop over it trains."""
from torch.utils.data import DataLoader, DistributedSampler

from models.select import define_model
from data.select import define_dataset


def main(opt):
    val_set = define_dataset(opt["val"])
    val_sampler = DistributedSampler(val_set)
    val_loader = DataLoader(val_set, batch_size=16, sampler=val_sampler)
    model = define_model(opt)
    for epoch in range(100):
        for i, batch in enumerate(val_loader):
            model.feed_data(batch)
            model.test()
