"""The model module initialises its Linear weights with std=1.0; train.py only builds the model."""

from models import Net
model = Net()
