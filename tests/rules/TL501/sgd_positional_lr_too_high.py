"""SGD with momentum, its learning rate 500.0 given positionally."""

import torch
import torch.nn as nn
model = nn.Linear(8, 2)
opt = torch.optim.SGD(model.parameters(), 500.0, momentum=0.9)  # TL501
