"""Helpers; the worker takes torch's names from here through `from util import *`."""
# ruff: noqa: F403, F405

from models import *

def build_model(name: str, num_classes: int):
    return globals()[name](num_classes)  # (the class is picked by its name)
