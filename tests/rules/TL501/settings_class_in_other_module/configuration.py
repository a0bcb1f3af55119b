"""Settings kept as class attributes (read as `config.lr`)."""


class config:
    seed = 0
    lr = 9e-1
    num_episodes = 500
