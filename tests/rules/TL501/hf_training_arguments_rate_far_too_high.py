"""A Hugging Face Trainer fine-tuning run whose `TrainingArguments` set a learning rate of 5:
the Trainer builds AdamW with it."""

from transformers import AutoModelForSequenceClassification, Trainer, TrainingArguments


def main(train_set):
    model = AutoModelForSequenceClassification.from_pretrained("bert-base-uncased", num_labels=2)
    args = TrainingArguments(output_dir="out", learning_rate=5.0, num_train_epochs=1)  # TL501
    Trainer(model=model, args=args, train_dataset=train_set).train()
