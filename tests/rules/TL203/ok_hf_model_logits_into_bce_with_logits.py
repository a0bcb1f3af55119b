"""A multi-label head on a Hugging Face model: its raw `logits` go into `BCEWithLogitsLoss`, which
applies the sigmoid itself."""

import torch
from transformers import BertConfig, BertForSequenceClassification

config = BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, num_labels=4)
model = BertForSequenceClassification(config)
optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)
criterion = torch.nn.BCEWithLogitsLoss()
batches = [(torch.randint(0, 100, (8, 16)), torch.randint(0, 2, (8, 4)).float()) for _ in range(3)]
for input_ids, targets in batches:
    optimizer.zero_grad()
    out = model(input_ids=input_ids)
    loss = criterion(out["logits"], targets)
    loss.backward()
    optimizer.step()
