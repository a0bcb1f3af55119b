"""TL4xx: model structure and initialisation (init scale, saturating stacks, eval mode,
evaluation without no_grad, functional dropout)."""
