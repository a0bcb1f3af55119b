"""The same helper sums the numbers of the losses."""

import torch


def validate(loader, model, loss_fn, is_inception=False):
    model.eval()
    running_loss = 0.0
    for i, (inputs, labels) in enumerate(loader):
        outputs = model(inputs)
        if is_inception:
            outputs = outputs[1]
        loss = loss_fn(outputs, labels)
        running_loss += loss.item()
    return running_loss / (i + 1)


if __name__ == "__main__":
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 32 * 32, 100))
    batches = [(torch.randn(8, 3, 32, 32), torch.randint(0, 100, (8,))) for _ in range(4)]
    print(validate(batches, net, torch.nn.CrossEntropyLoss()))
