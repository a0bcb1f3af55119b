"""DQN update step on a toy chain environment, with a Polyak-averaged target network."""
import copy
import random

import torch
import torch.nn as nn
import torch.nn.functional as F

N_STATES, N_ACTIONS, GAMMA, TAU = 6, 2, 0.9, 0.05


def step_env(state, action):
    nxt = min(state + 1, N_STATES - 1) if action == 1 else max(state - 1, 0)
    reward = 1.0 if nxt == N_STATES - 1 else 0.0
    return nxt, reward, nxt == N_STATES - 1


def one_hot(states):
    return F.one_hot(torch.as_tensor(states), N_STATES).float()


def main():
    random.seed(0)
    torch.manual_seed(0)
    q_net = nn.Sequential(nn.Linear(N_STATES, 32), nn.ReLU(), nn.Linear(32, N_ACTIONS))
    target_net = copy.deepcopy(q_net)
    optimizer = torch.optim.Adam(q_net.parameters(), lr=1e-3)
    replay = []
    for episode in range(2):
        state, done, steps = 0, False, 0
        while not done and steps < 30:
            if random.random() < 0.3:
                action = random.randrange(N_ACTIONS)
            else:
                with torch.no_grad():
                    action = int(q_net(one_hot([state])).argmax())
            nxt, reward, done = step_env(state, action)
            replay.append((state, action, reward, nxt, float(done)))
            state, steps = nxt, steps + 1

            batch = random.sample(replay, min(16, len(replay)))
            s, a, r, s2, d = zip(*batch)
            q = q_net(one_hot(s)).gather(1, torch.tensor(a).unsqueeze(1)).squeeze(1)
            with torch.no_grad():
                target = torch.tensor(r) + GAMMA * (1 - torch.tensor(d)) * target_net(one_hot(s2)).max(1).values
            loss = F.smooth_l1_loss(q, target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                for t_param, param in zip(target_net.parameters(), q_net.parameters()):
                    t_param.lerp_(param, TAU)
        print(f"episode {episode}: steps {steps} loss {loss.item():.4f}")


if __name__ == "__main__":
    main()
