import torch
from torch import nn, optim

from evaluate import eval_net
from segnet import SegNet


def train(net, train_loader, val_loader, epochs):
    opt = optim.SGD(net.parameters(), lr=0.01)
    criterion = nn.BCEWithLogitsLoss()
    for epoch in range(epochs):
        for images, masks in train_loader:
            loss = criterion(net(images), masks)
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(epoch, eval_net(net, val_loader))


if __name__ == "__main__":
    model = SegNet(classes=1)
    train(model, [], [], 3)
    torch.save(model.state_dict(), "segnet.pt")
