"""Server processes for the benchmark: started on free loopback ports, waited for until
/readyz answers 200, and always stopped (also on Ctrl-C, SIGTERM or an error)."""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

LOOPBACK = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[1]  # the repository, so `bench.baseline` imports


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    """Linux: the child gets SIGTERM if the bench runner dies, even by SIGKILL."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class ServerProcess:
    def __init__(self, name: str, argv: list[str], env: dict[str, str], port: int, log_dir: Path) -> None:
        self.name = name
        self.port = port
        self.url = f"http://{LOOPBACK}:{port}"
        self.log_path = log_dir / f"{name}.log"
        with open(self.log_path, "wb") as log:
            # A session of its own, so a Ctrl-C in the terminal reaches only the runner,
            # which then stops the servers in order.
            self.proc = subprocess.Popen(
                argv, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    async def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer"
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
                try:
                    async with session.get(self.url + "/readyz") as resp:
                        if resp.status == 200:
                            return
                        last = f"{resp.status} {(await resp.text())[:200]}"
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f}s (/readyz: {last}):\n{self.log_tail()}")

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # uvicorn shuts down gracefully (lifespan)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class ProcessGroup:
    """Stops its processes in reverse start order when the `with` block ends, however it ends."""

    def __init__(self, log_dir: Path, env: dict[str, str]) -> None:
        self.log_dir = log_dir
        self.env = env
        self.processes: list[ServerProcess] = []

    def start(self, name: str, argv: list[str], port: int, **env: str) -> ServerProcess:
        process = ServerProcess(name, argv, {**self.env, **env}, port, self.log_dir)
        self.processes.append(process)
        return process

    def __enter__(self) -> "ProcessGroup":
        return self

    def __exit__(self, *exc) -> None:
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()


def clean_env(**values: str) -> dict[str, str]:
    """The runner's environment without any SHORTSCIENCE_ setting it may carry, plus `values`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHORTSCIENCE_")}
    env.update(values)
    return env
