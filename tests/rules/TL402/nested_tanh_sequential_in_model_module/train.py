"""A model class in its own module stacks tanh layers in an nn.Sequential, one of them nested in an
inner Sequential.
"""

from models import DeepTanh
model = DeepTanh()
