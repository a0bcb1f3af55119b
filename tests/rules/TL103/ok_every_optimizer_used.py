"""Second optimizers that something uses: stepped in the other branch, handed to a helper that
steps it, or kept in a list the loop steps."""
import torch
import torch.nn as nn

from helpers import update_critic


def gan(loader, epochs: int) -> None:
    gen = nn.Linear(8, 8)
    disc = nn.Linear(8, 1)
    opt_g = torch.optim.Adam(gen.parameters())
    opt_d = torch.optim.Adam(disc.parameters())
    for _ in range(epochs):
        for i, x in enumerate(loader):
            if i % 2:
                loss = -disc(gen(x)).mean()
                opt_g.zero_grad()
                loss.backward()
                opt_g.step()
            else:
                d_loss = disc(gen(x).detach()).mean() - disc(x).mean()
                opt_d.zero_grad()
                d_loss.backward()
                opt_d.step()


def actor_critic(loader, epochs: int) -> None:
    actor = nn.Linear(8, 2)
    critic = nn.Linear(8, 1)
    opt_a = torch.optim.Adam(actor.parameters())
    opt_c = torch.optim.Adam(critic.parameters())
    for _ in range(epochs):
        for x in loader:
            loss = -actor(x).mean()
            opt_a.zero_grad()
            loss.backward()
            opt_a.step()
            update_critic(critic, opt_c, x)


def listed(loader, epochs: int) -> None:
    nets = [nn.Linear(8, 1), nn.Linear(8, 1)]
    main_opt = torch.optim.SGD(nets[0].parameters(), lr=0.1)
    aux_opt = torch.optim.SGD(nets[1].parameters(), lr=0.1)
    opts = [main_opt, aux_opt]
    for _ in range(epochs):
        for x in loader:
            loss = sum(n(x).mean() for n in nets)
            for o in opts:
                o.zero_grad()
            loss.backward()
            main_opt.step()
            for o in opts[1:]:
                o.step()
