"""Named hook points: the captured activations are the ones the forward pass computes, and nothing else changes."""

import pytest
import torch
from torch import nn

from petridish.hooks import HookPoint, capture, hook_names
from petridish.rl.ppo import Agent


class Toy(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 2, bias=False)
        with torch.no_grad():
            self.lin.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, -1.0]]))
        self.hook_in = HookPoint()

    def hook_aliases(self):
        return {"blocks.0.hook_out": "lin"}

    def forward(self, x):
        return self.lin(self.hook_in(x * 2))


def test_capture_reads_known_activations_and_removes_its_hooks():
    m = Toy()
    assert hook_names(m) == ["hook_in", "blocks.0.hook_out"]
    with capture(m, ["hook_in", "blocks.0.hook_out"]) as acts:
        m(torch.tensor([[1.0, 3.0]]))
    assert torch.equal(acts["hook_in"], torch.tensor([[2.0, 6.0]]))
    assert torch.equal(acts["blocks.0.hook_out"], torch.tensor([[2.0, -6.0]]))
    m(torch.zeros(1, 2))
    assert torch.equal(acts["hook_in"], torch.tensor([[2.0, 6.0]]))  # hooks are gone after the block
    assert not m.lin._forward_hooks and not m.hook_in._forward_hooks
    with pytest.raises(KeyError, match="no hook point 'lin'"), capture(m, ["lin"]):
        pass


@pytest.mark.parametrize("arch,blocks", [("mlp", 2), ("cnn", 3)])
def test_ppo_agent_hook_points(arch, blocks):
    torch.manual_seed(0)
    agent = Agent((3, 5, 5), 4, arch=arch, hidden=8)
    names = hook_names(agent)
    assert names == ["hook_obs", *[f"blocks.{i}.hook_post" for i in range(blocks)], "hook_policy_logits",
                     "hook_value"]
    assert not any("hook" in k for k in agent.state_dict())  # checkpoints are unchanged
    obs = torch.randint(0, 2, (6, 3, 5, 5), dtype=torch.uint8)
    with capture(agent, names) as acts:
        logits, value = agent(obs)
    last = acts[f"blocks.{blocks - 1}.hook_post"]
    assert last.shape == (6, 8) and (last >= 0).all()
    assert torch.allclose(agent.actor(last), logits) and torch.equal(acts["hook_policy_logits"], logits)
    assert torch.equal(acts["hook_value"].squeeze(-1), value)
    assert torch.equal(acts["hook_obs"], obs.float())
