"""TL1xx: the optimisation loop (zero_grad, backward, step, scheduler, clipping, AMP)."""
