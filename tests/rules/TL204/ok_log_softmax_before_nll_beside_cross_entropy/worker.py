"""The worker trains with CrossEntropyLoss on the network's raw scores and evaluates with
`F.nll_loss` on their log_softmax: both losses agree on what the network returns."""
# ruff: noqa: F403, F405

from util import *


class Worker:
    def __init__(self, network: str = "SmallNet", lr: float = 0.1) -> None:
        self.network = build_model(network, 10)
        self.optimizer = torch.optim.SGD(self.network.parameters(), lr=lr)
        self.criterion = nn.CrossEntropyLoss()

    def train_step(self, x, y) -> float:
        self.network.train()
        self.optimizer.zero_grad()
        logits = self.network(x)
        loss = self.criterion(logits, y)
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def evaluate(self, loader) -> float:
        self.network.eval()
        total = 0.0
        for x, y in loader:
            output = self.network(x)
            total += F.nll_loss(F.log_softmax(output, dim=1), y, reduction="sum").item()
        return total
