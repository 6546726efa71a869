"""The training command runs unchanged under torchrun with several processes (gloo on CPU)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def test_train_runs_under_torchrun_with_two_cpu_processes(tmp_path, tiny_overrides):
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent))
    if torchrun is None:
        pytest.skip("torchrun not installed beside this Python")
    out = tmp_path / "ddp"
    steps = ["--training.batch_size", "2", "--training.max_steps", "3", "--training.eval_steps", "3"]
    command = [torchrun, "--nproc_per_node", "2", "--master_port", "29611", "-m", "cli", "-q", "train"]
    command += tiny_overrides(out, *steps)
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        command, cwd=Path(__file__).resolve().parent.parent, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (out / "penalty.yaml").exists() and (out / "model.safetensors").exists()
