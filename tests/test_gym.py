"""gymnasium conventions: the ids work from a fresh interpreter with no prior `import petridish` (gymnasium >= 1.0
reads no plugins, so through the `petridish:` module prefix), and `petridish list` names every id."""

import subprocess
import sys

from petridish.rl.envs import ENVS
from petridish.rl.registration import env_ids

FRESH = """
import sys
import gymnasium as gym
assert "petridish" not in sys.modules
try:
    gym.make("petridish/CheeseMaze-v0")
except gym.error.NamespaceNotFound:
    print("plain id: NamespaceNotFound")
env = gym.make("petridish:petridish/CheeseMaze-v0", n_levels=20)
obs, _ = env.reset(seed=0)
print(type(env.unwrapped).__name__, obs.shape)
"""


def test_module_prefix_id_works_from_a_fresh_interpreter():
    p = subprocess.run([sys.executable, "-c", FRESH], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    # gymnasium 1.x: the plain id needs `import petridish` first; the prefixed id imports it
    assert lines[0] == "plain id: NamespaceNotFound"
    assert lines[1].startswith("CheeseMazeEnv (")


def test_list_names_every_env_id(cli):
    assert sorted(env_ids()) == sorted(ENVS)  # the registration table and the environments agree
    p = cli("list")
    assert p.returncode == 0, p.stderr
    listed = [line.strip() for line in p.stdout.splitlines() if line.strip().startswith("petridish/")]
    assert listed == env_ids()
