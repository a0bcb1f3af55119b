"""The same DQN loop with its optimizer step: the environment's `step(action)` and the
optimizer's `step()` are both there."""

import torch
import torch.nn as nn


def play_step(env, net, state, epsilon):
    if torch.rand(1).item() < epsilon:
        action = env.action_space.sample()
    else:
        action = int(net(torch.as_tensor(state).float()[None]).argmax())
    new_state, reward, done, _ = env.step(action)
    return new_state, reward, done


def train(env, net: nn.Module, buffer, td_loss, frames=100_000):
    optimizer = torch.optim.RMSprop(net.parameters(), lr=1e-4, momentum=0.95)
    state = env.reset()
    for frame in range(frames):
        state, reward, done = play_step(env, net, state, max(0.1, 1 - frame / 1e5))
        if done:
            state = env.reset()
        optimizer.zero_grad()
        loss = td_loss(buffer.sample(32), net)
        loss.backward()
        optimizer.step()
