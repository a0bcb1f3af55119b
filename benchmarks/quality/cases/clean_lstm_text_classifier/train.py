"""LSTM sentence classifier with attention pooling over a synthetic vocabulary."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

VOCAB, EMBED, HIDDEN, CLASSES, SEQ = 400, 16, 24, 3, 12


class AttnLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, EMBED, padding_idx=0)
        self.lstm = nn.LSTM(EMBED, HIDDEN, num_layers=2, batch_first=True, dropout=0.1)
        self.attn = nn.Linear(HIDDEN, 1)
        self.gate = nn.Linear(HIDDEN, HIDDEN)
        self.out = nn.Linear(HIDDEN, CLASSES)
        for name, param in self.lstm.named_parameters():
            if "weight_hh" in name:
                nn.init.orthogonal_(param)
            elif "weight_ih" in name:
                nn.init.xavier_uniform_(param)
            elif "bias" in name:
                nn.init.zeros_(param)

    def forward(self, tokens):
        states, _ = self.lstm(self.embedding(tokens))
        scores = self.attn(torch.tanh(states)).squeeze(-1)
        scores = scores.masked_fill(tokens == 0, -1e9)
        weights = torch.softmax(scores, dim=1).unsqueeze(-1)
        pooled = (weights * states).sum(dim=1)
        pooled = torch.sigmoid(self.gate(pooled)) * pooled
        return self.out(pooled)


def main():
    torch.manual_seed(0)
    tokens = torch.randint(1, VOCAB, (96, SEQ))
    lengths = torch.randint(6, SEQ + 1, (96,))
    tokens[torch.arange(SEQ).unsqueeze(0) >= lengths.unsqueeze(1)] = 0
    labels = tokens[:, 0] % CLASSES
    loader = DataLoader(TensorDataset(tokens, labels), batch_size=24, shuffle=True)
    model = AttnLSTM()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(2):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
        print(f"epoch {epoch}: {loss.item():.4f}")


if __name__ == "__main__":
    main()
