"""A generic trainer supports losses that return several terms: it rebuilds their sum as a
new tensor that requires grad. That tensor is a leaf made from the values, so with a
multi-term loss nothing reaches the model; a single-term loss trains normally."""

import torch


class Trainer:
    def __init__(self, model, loss_fn, optimizer):
        self.model = model
        self.loss_fn = loss_fn
        self.optimizer = optimizer

    def epoch(self, loader):
        total = 0.0
        for inputs, labels in loader:
            self.optimizer.zero_grad()
            outputs = self.model(inputs)
            losses = self.loss_fn(outputs, labels)
            loss = torch.sum(torch.tensor(losses, requires_grad=True)) if isinstance(losses, tuple) else losses
            loss.backward()  # TL601
            self.optimizer.step()
            total += loss.item()
        return total


def detection_loss(outputs, labels):
    boxes, scores = outputs
    return torch.nn.functional.smooth_l1_loss(boxes, labels[0]), torch.nn.functional.cross_entropy(scores, labels[1])



class Detector(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.body = torch.nn.Linear(16, 8)

    def forward(self, x):
        features = self.body(x)
        return features[:, :4], features[:, 4:]


if __name__ == "__main__":
    detector = Detector()
    batches = [(torch.randn(4, 16), (torch.randn(4, 4), torch.randint(0, 4, (4,)))) for _ in range(3)]
    Trainer(detector, detection_loss, torch.optim.SGD(detector.parameters(), lr=0.1)).epoch(batches)
