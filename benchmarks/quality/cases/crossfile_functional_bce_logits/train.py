import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from models import ClickModel

N_USERS, N_ITEM_FEATURES = 50, 6


def main():
    torch.manual_seed(0)
    users = torch.randint(0, N_USERS, (500,))
    items = torch.randn(500, N_ITEM_FEATURES)
    clicked = (items[:, 0] + 0.1 * users.float() / N_USERS > 0.5).float()
    loader = DataLoader(TensorDataset(users, items, clicked), batch_size=50, shuffle=True)

    model = ClickModel(N_USERS, N_ITEM_FEATURES)
    optimizer = torch.optim.Adagrad(model.parameters())
    for epoch in range(2):
        model.train()
        for u, it, c in loader:
            optimizer.zero_grad()
            pred = model(u, it)
            loss = F.binary_cross_entropy(pred, c)
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch}: {loss.item():.4f}")


if __name__ == "__main__":
    main()
