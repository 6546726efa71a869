"""The training command runs unchanged under torchrun with several processes (gloo on CPU), and the processes really
train one model together: each rank sees other batches, yet all end with the same weights."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# Run by each torchrun process: the real CLI, with the Trainer instrumented to record what this rank saw and ended
# with (the command itself writes the model from rank 0 only).
RANK_PROBE = """
import hashlib, json, os, sys
import transformers
from safetensors.torch import save_file

out = os.environ["RANK_PROBE_DIR"]
rank = os.environ["RANK"]
batches = []
original_step, original_train = transformers.Trainer.training_step, transformers.Trainer.train

def training_step(self, model, inputs, *args, **kwargs):
    batches.append(hashlib.sha1(inputs["input_ids"].cpu().numpy().tobytes()).hexdigest())
    return original_step(self, model, inputs, *args, **kwargs)

def train(self, *args, **kwargs):
    result = original_train(self, *args, **kwargs)
    state = {k: v.detach().cpu().clone().contiguous() for k, v in self.model.state_dict().items()}
    save_file(state, os.path.join(out, f"rank{rank}.safetensors"))
    with open(os.path.join(out, f"rank{rank}.json"), "w") as handle:
        json.dump({"world_size": self.args.world_size, "batches": batches}, handle)
    return result

transformers.Trainer.training_step, transformers.Trainer.train = training_step, train
from cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_train_under_torchrun_syncs_two_cpu_processes(tmp_path, tiny_overrides):
    from safetensors.torch import load_file

    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent))
    if torchrun is None:
        pytest.skip("torchrun not installed beside this Python")
    probe = tmp_path / "rank_probe.py"
    probe.write_text(RANK_PROBE, encoding="utf-8")
    out = tmp_path / "ddp"
    steps = [
        "--training.batch_size",
        "2",
        "--training.max_steps",
        "3",
        "--training.eval_steps",
        "3",
        "--data.real",
        "[]",
    ]
    # --standalone: a free rendezvous port, so two runs (or another service) never collide on a fixed one
    command = [
        torchrun,
        "--standalone",
        "--nproc_per_node",
        "2",
        str(probe),
        "-q",
        "train",
        *tiny_overrides(out, *steps),
    ]
    root = Path(__file__).resolve().parent.parent
    inherited = {key: value for key, value in os.environ.items() if key != "ACCELERATE_USE_CPU"}
    env = inherited | {"OMP_NUM_THREADS": "1", "RANK_PROBE_DIR": str(tmp_path), "PYTHONPATH": str(root)}
    result = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (out / "penalty.yaml").exists() and (out / "model.safetensors").exists()
    seen = [json.loads((tmp_path / f"rank{rank}.json").read_text(encoding="utf-8")) for rank in (0, 1)]
    assert [s["world_size"] for s in seen] == [2, 2]
    assert len(seen[0]["batches"]) == len(seen[1]["batches"]) == 3
    assert seen[0]["batches"] != seen[1]["batches"]  # each rank trains on its own shard of the data
    weights = [load_file(tmp_path / f"rank{rank}.safetensors") for rank in (0, 1)]
    assert weights[0].keys() == weights[1].keys()
    for name in weights[0]:  # other data, same weights: the gradients were averaged across the ranks
        assert (weights[0][name] - weights[1][name]).abs().max() == 0, name
