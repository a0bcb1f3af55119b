import torchvision.transforms as T
from torch.utils.data import DataLoader

from utils.folder import Digits

data = Digits("data/", transform=T.ToTensor())
for x, y in DataLoader(data, batch_size=16):
    print(x.shape, y)
