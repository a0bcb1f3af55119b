from .optimizer import ScheduledOptim

__all__ = ["ScheduledOptim"]
