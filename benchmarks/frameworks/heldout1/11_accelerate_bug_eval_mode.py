"""Fine-tune a tiny BERT for sentence classification with Accelerate (custom loop)."""
import torch
from torch.utils.data import DataLoader, Dataset
from accelerate import Accelerator
from transformers import BertConfig, BertForSequenceClassification, get_scheduler


class ToySentiment(Dataset):
    def __init__(self, n, seq_len=32, vocab=300, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.input_ids = torch.randint(5, vocab, (n, seq_len), generator=g)
        self.labels = (self.input_ids[:, :4].float().mean(1) > vocab / 2).long()
        self.input_ids[:, 0] = 2
        self.attention_mask = torch.ones_like(self.input_ids)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {
            "input_ids": self.input_ids[i],
            "attention_mask": self.attention_mask[i],
            "labels": self.labels[i],
        }


def evaluate(model, dataloader, accelerator):
    correct, total = 0, 0
    for batch in dataloader:
        with torch.no_grad():
            outputs = model(**batch)
        predictions = outputs.logits.argmax(dim=-1)
        predictions, references = accelerator.gather_for_metrics((predictions, batch["labels"]))
        correct += (predictions == references).sum().item()
        total += references.numel()
    return correct / total


def main():
    accelerator = Accelerator(cpu=True)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=300, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
        intermediate_size=64, max_position_embeddings=64, num_labels=2,
        hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
    )
    model = BertForSequenceClassification(config)

    train_dataloader = DataLoader(ToySentiment(512, seed=1), shuffle=True, batch_size=16)
    eval_dataloader = DataLoader(ToySentiment(128, seed=2), batch_size=32)

    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-4)
    num_epochs = 3
    num_training_steps = num_epochs * len(train_dataloader)
    lr_scheduler = get_scheduler(
        "linear", optimizer=optimizer, num_warmup_steps=10, num_training_steps=num_training_steps
    )
    model, optimizer, train_dataloader, eval_dataloader, lr_scheduler = accelerator.prepare(
        model, optimizer, train_dataloader, eval_dataloader, lr_scheduler
    )

    for epoch in range(num_epochs):
        model.train()
        for batch in train_dataloader:
            outputs = model(**batch)
            loss = outputs.loss
            accelerator.backward(loss)
            optimizer.step()
            lr_scheduler.step()
            optimizer.zero_grad()

        acc = evaluate(model, eval_dataloader, accelerator)
        accelerator.print(f"epoch {epoch}: eval accuracy = {acc:.3f}")


if __name__ == "__main__":
    main()
