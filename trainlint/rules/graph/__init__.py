"""TL6xx: the gradient path (detached losses, hand-written updates, losses kept with their graph).

Whether a value still hangs on the autograd graph is `analysis/autograd.py`'s answer; the
rules here only decide what to report.
"""
