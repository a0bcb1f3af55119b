"""A FID helper builds the pretrained InceptionV3 of `pytorch_fid` and never puts it in eval mode:
its batch norm uses each batch's statistics while features are extracted."""
import torch
from pytorch_fid.inception import InceptionV3


class FID:
    def __init__(self, dl, device="cuda"):
        self.dl = dl
        self.inception_v3 = InceptionV3([3]).to(device)

    def features(self, samples):
        return self.inception_v3(samples)[0]  # TL403

    @torch.inference_mode()
    def stats(self):
        feats = []
        for x in self.dl:
            feats.append(self.features(x))
        return torch.cat(feats)
