from .trainer import Trainer
from . import models
