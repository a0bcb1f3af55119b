"""Deep LSTM and GRU stacks: gated recurrent cells use sigmoid and tanh by design."""

import torch.nn as nn
rnn = nn.LSTM(8, 8, num_layers=6)
gru = nn.GRU(8, 8, num_layers=6)
