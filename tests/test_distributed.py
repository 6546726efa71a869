"""The training command runs unchanged under torchrun with several processes (gloo on CPU)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNITS = str(Path(__file__).parent / "fixtures" / "units.jsonl")


def test_train_runs_under_torchrun_with_two_cpu_processes(tmp_path, tiny_base_dir):
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent))
    if torchrun is None:
        pytest.skip("torchrun not installed beside this Python")
    out = tmp_path / "ddp"
    command = [
        torchrun,
        "--nproc_per_node",
        "2",
        "--master_port",
        "29611",
        "-m",
        "cli",
        "-q",
        "train",
        "--data.train",
        f"[{UNITS}]",
        "--data.validation",
        f"[{UNITS}]",
        "--data.max_length",
        "32",
        "--data.stride",
        "8",
        "--model.base_model",
        str(tiny_base_dir),
        "--training.output_dir",
        str(out),
        "--training.batch_size",
        "2",
        "--training.max_steps",
        "3",
        "--training.eval_steps",
        "3",
    ]
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        command, cwd=Path(__file__).resolve().parent.parent, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (out / "penalty.yaml").exists() and (out / "model.safetensors").exists()
