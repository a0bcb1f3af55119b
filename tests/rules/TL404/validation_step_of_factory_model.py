"""A scikit-learn-style wrapper whose network is built from a class given by the user (out of
sight): the validation step puts it in eval mode but computes predictions and loss with
autograd on, so every validation batch builds a graph."""
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
        return self.module_(x)  # TL404

    def train_step(self, x, y):
        self.module_.train()
        self.optimizer_.zero_grad()
        loss = self.criterion(self.infer(x), y)
        loss.backward()
        self.optimizer_.step()
        return loss.item()

    def validation_step(self, x, y):
        self.module_.eval()
        return self.criterion(self.infer(x), y).item()

    def fit(self, train_data, valid_data, epochs=10):
        self.initialize()
        for _ in range(epochs):
            for x, y in train_data:
                self.train_step(x, y)
            for x, y in valid_data:
                self.validation_step(x, y)
