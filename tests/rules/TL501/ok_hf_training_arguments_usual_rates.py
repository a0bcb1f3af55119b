"""Usual fine-tuning rates for the Trainer's AdamW, and a large rate for an optimizer the
Trainer is told to use instead (its own range is not AdamW's)."""

from transformers import AutoModelForSequenceClassification, Seq2SeqTrainingArguments, Trainer, TrainingArguments


def main(train_set):
    model = AutoModelForSequenceClassification.from_pretrained("bert-base-uncased", num_labels=2)
    args = TrainingArguments(output_dir="out", learning_rate=2e-5, num_train_epochs=3)
    Trainer(model=model, args=args, train_dataset=train_set).train()
    sgd = TrainingArguments(output_dir="out2", learning_rate=5.0, optim="sgd")
    Trainer(model=model, args=sgd, train_dataset=train_set).train()
    s2s = Seq2SeqTrainingArguments(output_dir="out3", learning_rate=3e-4)
    Trainer(model=model, args=s2s, train_dataset=train_set).train()
