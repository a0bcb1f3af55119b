"""A segmentation demo restores a network with batch norm (wrapped in `DataParallel`) and hands it to its test helper as
`test(model.eval(), image)`: the call switches the model to eval mode on the way in, so the
helper's forward runs in eval mode."""

import torch
import torch.nn as nn


def net_process(model: nn.Module, image: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        output = model(image.unsqueeze(0))
    return output.softmax(1)[0]


def scale_process(model: nn.Module, image: torch.Tensor, crop: int) -> torch.Tensor:
    prediction = torch.zeros(2, image.shape[1], image.shape[2])
    for top in range(0, image.shape[1], crop):
        for left in range(0, image.shape[2], crop):
            window = image[:, top : top + crop, left : left + crop]
            prediction[:, top : top + crop, left : left + crop] += net_process(model, window)
    return prediction


def test(model: nn.Module, image: torch.Tensor, scales: list) -> torch.Tensor:
    prediction = torch.zeros(2, 64, 64)
    for scale in scales:
        prediction += scale_process(model, image * scale, 32)
    prediction = scale_process(model, image, 32)
    return prediction.argmax(0)


def main() -> None:
    arch = "psp"
    if arch == "psp":
        from model.pspnet import PSPNet

        model = PSPNet()
    else:
        from model.psanet import PSANet

        model = PSANet()
    model = torch.nn.DataParallel(model)
    checkpoint = torch.load("segnet.pth")
    model.load_state_dict(checkpoint["state_dict"], strict=False)
    print(test(model.eval(), torch.rand(3, 64, 64), [0.5, 1.0]))


if __name__ == "__main__":
    main()
