"""Knowledge distillation with Accelerate: frozen teacher, trainable student."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from accelerate import Accelerator


def mlp(d_in, hidden, d_out, depth):
    layers, d = [], d_in
    for _ in range(depth):
        layers += [nn.Linear(d, hidden), nn.ReLU()]
        d = hidden
    layers.append(nn.Linear(d, d_out))
    return nn.Sequential(*layers)


def distillation_loss(student_logits, teacher_logits, labels, temperature=2.0, alpha=0.5):
    soft_targets = F.softmax(teacher_logits / temperature, dim=-1)
    soft_student = F.log_softmax(student_logits / temperature, dim=-1)
    kd = F.kl_div(soft_student, soft_targets, reduction="batchmean") * temperature ** 2
    ce = F.cross_entropy(student_logits, labels)
    return alpha * kd + (1 - alpha) * ce


def pretrain_teacher(teacher, loader, epochs=2):
    opt = torch.optim.Adam(teacher.parameters(), lr=2e-3)
    teacher.train()
    for _ in range(epochs):
        for x, y in loader:
            opt.zero_grad()
            F.cross_entropy(teacher(x), y).backward()
            opt.step()
    return teacher


def main():
    torch.manual_seed(0)
    accelerator = Accelerator(cpu=True)
    n_classes = 4
    x = torch.randn(1536, 24)
    y = (x[:, :8] @ torch.randn(8, n_classes)).argmax(dim=1)
    train_ds = TensorDataset(x[:1280], y[:1280])
    val_ds = TensorDataset(x[1280:], y[1280:])
    train_dl = DataLoader(train_ds, batch_size=64, shuffle=True)
    val_dl = DataLoader(val_ds, batch_size=128)

    teacher = pretrain_teacher(mlp(24, 128, n_classes, 3), train_dl)
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)

    student = mlp(24, 32, n_classes, 1)
    optimizer = torch.optim.Adam(student.parameters(), lr=3e-3)
    student, teacher, optimizer, train_dl, val_dl = accelerator.prepare(
        student, teacher, optimizer, train_dl, val_dl
    )

    for epoch in range(3):
        student.train()
        for xb, yb in train_dl:
            with torch.no_grad():
                t_logits = teacher(xb)
            s_logits = student(xb)
            loss = distillation_loss(s_logits, t_logits, yb)
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()

        student.eval()
        correct = 0
        with torch.no_grad():
            for xb, yb in val_dl:
                pred = student(xb).argmax(-1)
                pred, yb = accelerator.gather_for_metrics((pred, yb))
                correct += (pred == yb).sum().item()
        accelerator.print(f"epoch {epoch}: student acc {correct / len(val_ds):.3f}")


if __name__ == "__main__":
    main()
