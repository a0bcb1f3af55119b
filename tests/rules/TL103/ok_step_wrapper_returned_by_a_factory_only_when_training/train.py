import torch.nn as nn

from utils.model import get_model


def main(loader, grad_acc_step):
    model, optimizer = get_model(train=True)
    model = nn.DataParallel(model)
    criterion = nn.MSELoss()
    step = 1
    while True:
        for batchs in loader:
            for batch in batchs:
                out = model(batch[0])
                total_loss = criterion(out, batch[1]) / grad_acc_step
                total_loss.backward()
                if step % grad_acc_step == 0:
                    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                    optimizer.step_and_update_lr()  # ok: steps `self._optimizer`
                    optimizer.zero_grad()
                step += 1
