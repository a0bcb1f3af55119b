"""Knowledge distillation: the student matches the teacher's softened distribution and the labels."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

TEMPERATURE = 4.0
ALPHA = 0.7


def make_teacher():
    teacher = nn.Sequential(nn.Linear(20, 128), nn.ReLU(), nn.Linear(128, 5))
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    return teacher


def distillation_loss(student_logits, teacher_logits, labels):
    soft_targets = F.softmax(teacher_logits / TEMPERATURE, dim=1)
    soft_loss = F.cross_entropy(student_logits / TEMPERATURE, soft_targets) * TEMPERATURE**2
    kl = F.kl_div(
        F.log_softmax(student_logits / TEMPERATURE, dim=1),
        F.log_softmax(teacher_logits / TEMPERATURE, dim=1),
        reduction="batchmean",
        log_target=True,
    )
    hard_loss = F.cross_entropy(student_logits, labels)
    return ALPHA * soft_loss + (1 - ALPHA) * hard_loss, kl


def main():
    torch.manual_seed(0)
    x = torch.randn(300, 20)
    y = x[:, :5].argmax(dim=1)
    loader = DataLoader(TensorDataset(x, y), batch_size=30, shuffle=True)
    teacher = make_teacher()
    student = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 5))
    optimizer = torch.optim.Adam(student.parameters(), lr=1e-3)
    for epoch in range(2):
        student.train()
        for xb, yb in loader:
            with torch.no_grad():
                teacher_logits = teacher(xb)
            optimizer.zero_grad()
            loss, kl = distillation_loss(student(xb), teacher_logits, yb)
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch}: loss {loss.item():.4f} kl {kl.item():.4f}")


if __name__ == "__main__":
    main()
