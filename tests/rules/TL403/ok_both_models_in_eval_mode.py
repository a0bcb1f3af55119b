"""The fixed link-prediction test puts both the encoder and the predictor in eval mode, so
the predictor's `F.dropout(..., training=self.training)` is off."""

import torch
import torch.nn.functional as F


class Encoder(torch.nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(dim, dim)
        self.norm = torch.nn.BatchNorm1d(dim)

    def forward(self, x):
        return self.norm(self.lin(x)).relu()


class LinkPredictor(torch.nn.Module):
    def __init__(self, dim: int, dropout: float) -> None:
        super().__init__()
        self.lins = torch.nn.ModuleList([torch.nn.Linear(dim, dim), torch.nn.Linear(dim, 1)])
        self.dropout = dropout

    def forward(self, a, b):
        x = a * b
        x = F.dropout(self.lins[0](x).relu(), p=self.dropout, training=self.training)
        return torch.sigmoid(self.lins[1](x))


def train(model, predictor, x, edges, optimizer):
    model.train()
    predictor.train()
    optimizer.zero_grad()
    h = model(x)
    loss = -torch.log(predictor(h[edges[0]], h[edges[1]]) + 1e-15).mean()
    loss.backward()
    optimizer.step()
    return loss.item()


@torch.no_grad()
def test(model, predictor, x, splits):
    model.eval()
    predictor.eval()
    h = model(x)
    scores = []
    for edges in splits:
        scores.append(predictor(h[edges[0]], h[edges[1]]))
    for edges in splits:
        scores.append(predictor(h[edges[1]], h[edges[0]]))
    return scores


model = Encoder(16)
predictor = LinkPredictor(16, dropout=0.5)
optimizer = torch.optim.Adam(list(model.parameters()) + list(predictor.parameters()), lr=0.01)
x, edges = torch.randn(100, 16), torch.randint(0, 100, (2, 400))
for epoch in range(50):
    train(model, predictor, x, edges, optimizer)
    if epoch % 10 == 0:
        test(model, predictor, x, [edges[:, :200], edges[:, 200:]])
