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
