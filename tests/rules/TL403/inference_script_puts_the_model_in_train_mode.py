"""An inference script loads the trained network (it has dropout), calls `model.train()`
where `eval()` was meant, and predicts each clip once under `no_grad`: every prediction is
made with dropout active."""

import torch
import torch.nn as nn


class C3D(nn.Module):
    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv3d(3, 16, 3), nn.ReLU(), nn.AdaptiveAvgPool3d(1))
        self.dropout = nn.Dropout(p=0.5)
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x):
        return self.fc(self.dropout(self.features(x).flatten(1)))


def main() -> None:
    model = C3D(num_classes=101)
    model.load_state_dict(torch.load("c3d.pth"))
    model.train()
    clips = torch.load("clips.pt")
    for clip in clips:
        with torch.no_grad():
            outputs = model.forward(clip)  # TL403
        probs = torch.softmax(outputs, dim=1)
        print(probs.argmax(1).item(), probs.max().item())


if __name__ == "__main__":
    main()
