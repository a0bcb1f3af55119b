"""Binary segmentation with a small encoder-decoder under DDP (launch with torchrun)."""
import argparse
import os
import tempfile

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, Dataset
from torch.utils.data.distributed import DistributedSampler


class CircleMasks(Dataset):
    def __init__(self, n, size=48, seed=0):
        g = torch.Generator().manual_seed(seed)
        yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
        centers = torch.randint(8, size - 8, (n, 2), generator=g)
        radii = torch.randint(4, 12, (n,), generator=g)
        dist2 = (yy[None] - centers[:, 0, None, None]) ** 2 + (xx[None] - centers[:, 1, None, None]) ** 2
        self.masks = (dist2 <= radii[:, None, None] ** 2).float().unsqueeze(1)
        self.images = (self.masks * 0.8 + 0.4 * torch.randn(n, 3, size, size, generator=g) - 0.4) / 0.5

    def __len__(self):
        return len(self.masks)

    def __getitem__(self, i):
        return self.images[i], self.masks[i]


def conv_bn(c_in, c_out):
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                         nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class MiniUNet(nn.Module):
    def __init__(self, base=16):
        super().__init__()
        self.enc1 = conv_bn(3, base)
        self.enc2 = nn.Sequential(nn.MaxPool2d(2), conv_bn(base, base * 2))
        self.up = nn.ConvTranspose2d(base * 2, base, 2, stride=2)
        self.dec = conv_bn(base * 2, base)
        self.out = nn.Conv2d(base, 1, 1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(e1)
        d = self.dec(torch.cat([self.up(e2), e1], dim=1))
        return self.out(d)


def dice_score(logits, target, eps=1e-6):
    pred = (logits.sigmoid() > 0.5).float()
    inter = (pred * target).sum()
    return (2 * inter + eps) / (pred.sum() + target.sum() + eps)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=2, help="per-process batch size")
    parser.add_argument("--lr", type=float, default=1e-3)
    args = parser.parse_args()

    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)

    train_ds = CircleMasks(160, seed=0)
    val_ds = CircleMasks(32, seed=1)
    sampler = DistributedSampler(train_ds, num_replicas=world, rank=rank, shuffle=True)
    train_loader = DataLoader(train_ds, batch_size=args.batch_size, sampler=sampler)
    val_loader = DataLoader(val_ds, batch_size=8,
                            sampler=DistributedSampler(val_ds, num_replicas=world, rank=rank, shuffle=False))

    model = DDP(MiniUNet())
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    criterion = nn.BCEWithLogitsLoss()

    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        model.train()
        for images, masks in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(images), masks)
            loss.backward()
            optimizer.step()

        model.eval()
        dice_sum = torch.zeros(2)
        with torch.no_grad():
            for images, masks in val_loader:
                dice_sum[0] += dice_score(model(images), masks)
                dice_sum[1] += 1
        dist.all_reduce(dice_sum)
        if rank == 0:
            print(f"epoch {epoch}: last loss {loss.item():.4f} val dice {(dice_sum[0] / dice_sum[1]).item():.3f}")

    if rank == 0:
        torch.save(model.module.state_dict(), os.path.join(tempfile.mkdtemp(), "unet.pt"))
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
