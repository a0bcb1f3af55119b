"""A package that re-exports its model class: `from segnet import SegNet` reaches it."""
from .model import SegNet

__all__ = ["SegNet"]
