"""The same helper with the InceptionV3 put in eval mode once it is built."""
import torch
from pytorch_fid.inception import InceptionV3


class FID:
    def __init__(self, dl, device="cuda"):
        self.dl = dl
        self.inception_v3 = InceptionV3([3]).to(device)
        self.inception_v3.eval()

    def features(self, samples):
        return self.inception_v3(samples)[0]

    @torch.inference_mode()
    def stats(self):
        feats = []
        for x in self.dl:
            feats.append(self.features(x))
        return torch.cat(feats)


class ChainedFID:
    def __init__(self, dl, device="cuda"):
        self.dl = dl
        self.net = InceptionV3([3]).to(device).eval()

    @torch.inference_mode()
    def stats(self):
        return torch.cat([self.net(x)[0] for x in self.dl])
