"""The embedded emulator: `ecsched sandbox` as a real process, and the `ecsched demo` tour."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Result

ROOT = Path(__file__).resolve().parents[1]


def _clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(NO_COLOR="1", HOME=str(tmp_path), AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    return env


def test_sandbox_serves_a_seeded_emulator_until_sigterm(tmp_path: Path) -> None:
    env = _clean_env(tmp_path)
    example = str(ROOT / "schedules" / "example.yaml")
    proc = subprocess.Popen([sys.executable, "-m", "ecsched", "-c", example, "sandbox", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("export AWS_ENDPOINT_URL=http://127.0.0.1:"), line
        exports = dict(re.findall(r"(\w+)=(\S+)", line))
        use = {**env, **exports}
        # Every command now talks to the emulator: the seeded cluster and subnets exist, and apply works.
        out = subprocess.run([sys.executable, "-m", "ecsched", "-c", example, "apply"], env=use,
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        again = subprocess.run([sys.executable, "-m", "ecsched", "-c", example, "diff", "--exit-code"], env=use,
                               capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stdout
        probe = ("import boto3;e=boto3.client('ec2');"
                 "print(e.describe_subnets(SubnetIds=['subnet-0a1b2c3d4e5f60001'])['Subnets'][0]['SubnetId']);"
                 "print(boto3.client('ecs').describe_clusters(clusters=['laravel-batch'])['clusters'][0]['status'])")
        seen = subprocess.run([sys.executable, "-c", probe], env=use, capture_output=True, text=True, timeout=60)
        assert seen.stdout.split() == ["subnet-0a1b2c3d4e5f60001", "ACTIVE"], seen.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0


def test_sandbox_port_in_use_is_one_clear_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        out = subprocess.run([sys.executable, "-m", "ecsched", "-c", str(ROOT / "schedules" / "example.yaml"),
                              "sandbox", "--port", str(port)], env=_clean_env(tmp_path),
                             capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in out.stderr
    assert "Traceback" not in out.stderr


def test_demo_tour_runs_every_step(cli: Callable[..., Result], tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    for k in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(k)
    monkeypatch.chdir(tmp_path)  # works from any directory: the example ships in the package
    res = cli("demo")
    assert res.code == 0, res.out + res.err
    assert "Demo complete" in res.out
    for step in ("== 1.", "== 4.", "== 5.", "== 8."):
        assert step in res.out
    assert "No changes: AWS matches the file." in res.out
