from . import models
from .trainer import Trainer

__all__ = ["Trainer", "models"]
