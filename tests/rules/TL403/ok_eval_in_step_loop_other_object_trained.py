"""A teacher whose class is out of sight is switched to eval mode in the loop, while the code
puts the student (also out of sight) in training mode: the `.train()` says nothing about the
teacher, which is never trained here."""

import torch

from vendor.nets import Segmenter


def distill(student, teacher, steps, batches):
    opt = torch.optim.SGD(student.parameters(), lr=0.01)
    student.train()
    for step in range(steps):
        x, _ = batches[step % len(batches)]
        opt.zero_grad()
        guess = student(x)
        teacher.eval()  # ok: the teacher is not the model being trained
        with torch.no_grad():
            target = teacher(x)
        loss = torch.nn.functional.mse_loss(guess, target)
        loss.backward()
        opt.step()


distill(Segmenter(channels=3), Segmenter(channels=3), 1000, [])
