import torch
from torch.utils.data import DataLoader, TensorDataset

import pkg

data = TensorDataset(torch.randn(256, 8), torch.randint(0, 3, (256,)))
model = pkg.models.Large()
trainer = pkg.Trainer(
    model=model,
    optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
    train_loader=DataLoader(data, batch_size=16, shuffle=True),
    val_loader=DataLoader(data, batch_size=64),
)
for epoch in range(3):
    trainer.train_epoch()
