import torch
from torch import nn
import torch.nn.functional as F

torch.manual_seed(0)


class IntentClassifier(nn.Module):
    def __init__(self, vocab=300, dim=24, n_intents=5):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim, padding_idx=0)
        self.fc = nn.Linear(dim, n_intents)

    def forward(self, token_ids):
        mask = (token_ids != 0).unsqueeze(-1).float()
        pooled = (self.embed(token_ids) * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return F.softmax(self.fc(pooled), dim=-1)


tokens = torch.randint(1, 300, (256, 12))
tokens[:, 8:] = 0
intents = tokens[:, 0] % 5

model = IntentClassifier()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.NLLLoss()

for epoch in range(2):
    perm = torch.randperm(len(tokens))
    for i in range(0, len(tokens), 32):
        idx = perm[i:i + 32]
        optimizer.zero_grad()
        loss = criterion(model(tokens[idx]), intents[idx])
        loss.backward()
        optimizer.step()
    print(f"epoch {epoch}: {loss.item():.4f}")
