"""The same script runs the detection under `torch.no_grad()`, which the star import brings."""

from models import *  # noqa: F403
from utils.utils import *  # noqa: F403


def detect(source, weights):
    model = Darknet("cfg/yolov3.cfg", 416)  # noqa: F405
    model.load_state_dict(torch.load(weights, map_location="cpu")["model"])  # noqa: F405
    model.eval()
    for path, img in load_images(source):  # noqa: F405
        img = torch.from_numpy(img).float() / 255.0  # noqa: F405
        pred = model(img.unsqueeze(0))[0]
        print(path, pred.shape)


if __name__ == "__main__":
    with torch.no_grad():  # noqa: F405
        detect("data/samples", "weights/yolov3.pt")
