import torch
import torch.nn as nn

embedding = nn.Embedding(1000, 64)
embedding.weight.requiresgrad = False  # TL605
decoder = nn.Linear(64, 1000)
decoder.bias.requires_gradient = True  # TL605
decoder.weight.requiresGrad = False  # TL605
optimizer = torch.optim.Adam([embedding.weight, decoder.weight, decoder.bias], lr=1e-3)
