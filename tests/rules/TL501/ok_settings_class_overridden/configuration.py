"""Settings kept as class attributes; the script overrides the rate from the command line."""


class config:
    seed = 0
    lr = 9e-1
    num_episodes = 500
