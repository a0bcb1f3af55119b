"""A distillation policy runs the student, keeps its logits for the distillation term with
`out.new_tensor(out, requires_grad=True)`, and later adds that term to the student's loss. The
copy is a new leaf: the term's gradient stops at the copy and never reaches the student."""

import torch
import torch.nn.functional as F


class DistillationPolicy:
    def __init__(self, student_model, teacher_model, temperature: float = 4.0) -> None:
        self.student = student_model
        self.teacher = teacher_model
        self.temperature = temperature
        self.student_logits = None
        self.teacher_logits = None

    def forward(self, *inputs):
        with torch.no_grad():
            self.teacher_logits = self.teacher(*inputs)
        out = self.student(*inputs)
        self.student_logits = out.new_tensor(out, requires_grad=True)  # TL601
        return out

    def before_backward_pass(self, loss):
        log_probs = F.log_softmax(self.student_logits / self.temperature, dim=1)
        targets = F.softmax(self.teacher_logits / self.temperature, dim=1)
        return 0.5 * loss + 0.5 * F.kl_div(log_probs, targets, reduction="batchmean")
