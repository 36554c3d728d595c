"""The training loop: exact resume after SIGKILL, and two-process DDP on CPU (gloo)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from safetensors.torch import load_file

ROOT = Path(__file__).resolve().parents[2]
TOY = "tests.train.toy_task:ToyTask"
CONFIG = Path(__file__).parent / "configs" / "toy.yaml"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", TQDM_DISABLE="1")
    return env


def _train_cmd(out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "seedmusic.train",
        TOY,
        "--config",
        str(CONFIG),
        "--out",
        str(out),
        *extra,
    ]


def _metrics(run: Path) -> dict[int, dict[str, float]]:
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return {r["step"]: r for r in records}


def test_sigkill_and_resume_reach_the_same_loss_as_an_uninterrupted_run(tmp_path: Path) -> None:
    reference, killed = tmp_path / "reference", tmp_path / "killed"
    subprocess.run(_train_cmd(reference), cwd=ROOT, env=_env(), check=True, capture_output=True)

    slow = _train_cmd(killed, "--set", "step_delay_s=0.3")
    proc = subprocess.Popen(
        slow, cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while not (killed / "checkpoints" / "step_4").is_dir():
        assert proc.poll() is None, "the run ended before its first checkpoint"
        assert time.monotonic() < deadline, "no checkpoint within 60 s"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (killed / "final").exists(), "the run finished before it was killed"

    subprocess.run(
        _train_cmd(killed, "--resume", str(killed)),
        cwd=ROOT,
        env=_env(),
        check=True,
        capture_output=True,
    )
    want, got = _metrics(reference), _metrics(killed)
    assert sorted(got) == list(range(1, 13))
    for step in range(1, 13):
        assert got[step]["loss"] == want[step]["loss"], f"loss differs at step {step}"
    ref_weights = load_file(str(reference / "final" / "model.safetensors"))
    new_weights = load_file(str(killed / "final" / "model.safetensors"))
    assert ref_weights.keys() == new_weights.keys()
    for name, tensor in ref_weights.items():
        assert tensor.equal(new_weights[name]), name


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_two_processes_step_in_sync_and_every_parameter_gets_a_gradient(tmp_path: Path) -> None:
    # accelerate 1.15 starts ONE process for `--cpu --num_processes 2` unless mpirun is there;
    # `--multi_gpu` starts two with torchrun, and the loop's Accelerator(cpu=True) (no GPU here)
    # joins them in a gloo group.
    run = tmp_path / "ddp"
    launch = [
        sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
        "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
        "--main_process_port", str(_free_port()),
        "-m", "seedmusic.train", TOY, "--config", str(CONFIG), "--out", str(run),
        "--set", "train.max_steps=6", "--set", "train.ema_decay=0",
    ]  # fmt: skip
    result = subprocess.run(
        launch, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    ranks = [json.loads((run / "ranks" / f"rank_{r}.json").read_text()) for r in (0, 1)]
    assert [r["rank"] for r in ranks] == [0, 1]
    assert all(r["world_size"] == 2 and r["steps"] == 6 for r in ranks)
    # Each rank reads different samples; identical weights mean the gradients were all-reduced.
    assert ranks[0]["param_sha256"] == ranks[1]["param_sha256"]
    assert ranks[0]["last_grad_norm"] == pytest.approx(ranks[1]["last_grad_norm"], rel=1e-6)
    assert ranks[0]["params_without_grad"] == [] and ranks[1]["params_without_grad"] == []
    assert (run / "final" / "model.safetensors").is_file()
    assert sorted(_metrics(run)) == list(range(1, 7))
