"""A scikit-learn-style wrapper whose network is built from a class given by the user: its
validation step switches the network to eval mode itself before the forward it reaches
through a helper."""
import torch


class NeuralNet:
    def __init__(self, module, criterion, lr=0.01):
        self.module = module
        self.criterion = criterion
        self.lr = lr

    def initialize(self):
        self.module_ = self.module()
        self.optimizer_ = torch.optim.SGD(self.module_.parameters(), lr=self.lr)

    def infer(self, x):
        return self.module_(x)

    def train_step(self, x, y):
        self.module_.train()
        self.optimizer_.zero_grad()
        loss = self.criterion(self.infer(x), y)
        loss.backward()
        self.optimizer_.step()
        return loss.item()

    @torch.no_grad()
    def validation_step(self, x, y):
        self.module_.eval()
        return self.criterion(self.infer(x), y).item()  # ok: eval mode set just above

    def fit(self, train_data, valid_data, epochs=10):
        self.initialize()
        for _ in range(epochs):
            for x, y in train_data:
                self.train_step(x, y)
            for x, y in valid_data:
                self.validation_step(x, y)
