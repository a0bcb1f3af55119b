"""The same demo hands the restored network over as it is: nothing switches it to eval mode,
so batch norm normalises the one test image with its own statistics."""

import torch
import torch.nn as nn


def net_process(model: nn.Module, image: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        output = model(image.unsqueeze(0))  # TL403
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
    print(test(model, torch.rand(3, 64, 64), [0.5, 1.0]))


if __name__ == "__main__":
    main()
