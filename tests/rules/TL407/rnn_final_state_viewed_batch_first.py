"""A sentence encoder joins the two directions of a bidirectional LSTM's final hidden state
with a view that puts the batch first: h_n is laid out (layers * directions, batch, hidden)."""
import torch
import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self, birnn: bool = True):
        super().__init__()
        self.birnn = birnn
        self.rnn = nn.LSTM(input_size=32, hidden_size=64, num_layers=1, bidirectional=birnn)

    def forward(self, inputs):
        batch_size = inputs.size()[1]
        outputs, (ht, ct) = self.rnn(inputs)
        return ht[-1] if not self.birnn else ht[-2:].view(batch_size, -1)  # TL407


class BiGRU(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(16, 32, bidirectional=True, batch_first=True)
        self.head = nn.Linear(64, 2)

    def forward(self, x):
        _, hidden = self.gru(x)
        return self.head(hidden.view(x.size(0), -1))  # TL407


print(Encoder()(torch.randn(7, 4, 32)).shape, BiGRU()(torch.randn(4, 7, 16)).shape)
