"""A detection script gets `torch` and its model class from star imports of the project's
utilities (out of sight here) and runs inference over a folder with gradients enabled."""

from models import *  # noqa: F403
from utils.utils import *  # noqa: F403


def detect(source, weights):
    model = Darknet("cfg/yolov3.cfg", 416)  # noqa: F405
    model.load_state_dict(torch.load(weights, map_location="cpu")["model"])  # noqa: F405
    model.eval()
    for path, img in load_images(source):  # noqa: F405
        img = torch.from_numpy(img).float() / 255.0  # noqa: F405
        pred = model(img.unsqueeze(0))[0]  # TL404
        print(path, pred.shape)


if __name__ == "__main__":
    detect("data/samples", "weights/yolov3.pt")
