"""Two models of one class (a GAN's generator and discriminator) are told apart in a trace."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from tests.runtime.tracer_helpers import script, trace_inline  # noqa: E402

GAN = """\
generator = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
discriminator = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
opt_g = torch.optim.Adam({g_params}, lr=1e-3)
opt_d = torch.optim.Adam(discriminator.parameters(), lr=1e-3)
bce = nn.BCEWithLogitsLoss()
real = torch.randn(32, 2)
ones, zeros = torch.ones(32, 1), torch.zeros(32, 1)
for step in range(4):
    fake = generator(torch.randn(32, 4))
    opt_d.zero_grad()
    (bce(discriminator(real), ones) + bce(discriminator(fake.detach()), zeros)).backward()
    opt_d.step()
    opt_g.zero_grad()
    bce(discriminator(fake), ones).backward()
    opt_g.step()
"""


def test_a_generator_layer_left_out_of_its_optimizer_is_reported_by_its_own_name(tmp_path: Path) -> None:
    report = trace_inline(tmp_path, script(GAN.format(g_params="generator[:-1].parameters()")), steps=4)
    found = report.find("TL908")
    assert len(found) == 1, [d.message for d in report.diagnostics]
    assert found[0].evidence["parameters"] == ["Sequential.2.weight", "Sequential.2.bias"]


def test_a_gan_with_every_parameter_held_shows_nothing(tmp_path: Path) -> None:
    report = trace_inline(tmp_path, script(GAN.format(g_params="generator.parameters()")), steps=4)
    assert report.find("TL908") == []
    names = {p.name for o in report.evidence.optimizers.values() for p in o.params}
    assert "Sequential.0.weight" in names and "Sequential#2.0.weight" in names
