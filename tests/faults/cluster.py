"""The split platform as real OS processes (`shortscience serve ...`), each on a fixed port
for its whole life, so a service killed with SIGKILL comes back at the address the gateway
already knows."""

from __future__ import annotations

import asyncio
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from backbone.faults import RELAY_CRASH
from bench.processes import ROOT, _die_with_parent, clean_env, free_port

SHORTSCIENCE = str(Path(sys.executable).parent / "shortscience")
SERVICES = ("papers", "summaries", "search", "social")
ADMIN = ("faultadmin", "fault admin password 1")


def platform_env(data_dir: Path, journal: Path, **values: str) -> dict[str, str]:
    """Environment of every process: cheap argon2, high limits, fast polling and retries."""
    return clean_env(
        SHORTSCIENCE_DATA_DIR=str(data_dir),
        SHORTSCIENCE_ENVIRONMENT="test",
        SHORTSCIENCE_INTERNAL_SECRET=secrets.token_urlsafe(24),
        SHORTSCIENCE_LOG_LEVEL="WARNING",
        SHORTSCIENCE_DEMO_DATA="false",
        SHORTSCIENCE_ARGON2_TIME_COST="1",
        SHORTSCIENCE_ARGON2_MEMORY_KIB="1024",
        SHORTSCIENCE_WRITE_LIMIT="1000000",
        SHORTSCIENCE_LOGIN_LIMIT="1000000",
        SHORTSCIENCE_SIGNUP_LIMIT="1000000",
        SHORTSCIENCE_POLL_INTERVAL="0.02",
        SHORTSCIENCE_CONSUMER_MAX_ATTEMPTS="3",
        SHORTSCIENCE_CONSUMER_RETRY_BASE="0.01",
        SHORTSCIENCE_ENGINE_RETRY_BASE="0.2",
        SHORTSCIENCE_ENGINE_RETRY_MAX="2",
        # Social runs dry (no credentials): every post is composed and stored as `dry_run`.
        SHORTSCIENCE_SOCIAL_TWITTER_MAX_PER_DAY="0",
        SHORTSCIENCE_SOCIAL_FACEBOOK_MAX_PER_HOUR="0",
        SHORTSCIENCE_FAULT_JOURNAL=str(journal),
        **values,
    )


@dataclass
class Service:
    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen | None = None
    kills: int = 0
    crash_armed: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, **extra_env: str) -> None:
        assert self.proc is None or self.proc.poll() is not None, f"{self.name} is running"
        env = {**self.env, **extra_env}
        # Armed with a relay-crash hook, the process may kill itself before it is ever ready
        # (its first batches can be a backlog): that is the injected fault, not a failed start.
        self.crash_armed = RELAY_CRASH in extra_env
        with open(self.log_path, "ab") as log:
            log.write(f"\n=== start {self.name} {sorted(extra_env.items())} ===\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                [SHORTSCIENCE, "serve", self.name, "--port", str(self.port)], env=env, cwd=ROOT,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_die_with_parent,
            )

    async def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() < deadline:
                if self.proc is not None and self.proc.poll() is not None:
                    if self.crash_armed and self.proc.returncode == -9:
                        return  # its relay's SIGKILL came early; the scenario sees it in wait_exit
                    raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
                try:
                    if (await client.get(self.url + "/readyz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f} s:\n{self.log_tail()}")

    async def wait_exit(self, timeout: float = 60.0) -> int:
        """Wait for the process to end by itself (a fault hook killing it)."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} did not exit within {timeout} s")
            await asyncio.sleep(0.05)
        return self.proc.returncode

    def kill(self) -> None:
        """kill -9: no shutdown, no final commit, no relay drain."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.kills += 1

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class Cluster:
    data_dir: Path
    env: dict[str, str]
    services: dict[str, Service] = field(default_factory=dict)

    @classmethod
    def create(cls, data_dir: Path, env: dict[str, str]) -> "Cluster":
        cluster = cls(data_dir, env)
        log_dir = data_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        for name in SERVICES:
            cluster.services[name] = Service(name, free_port(), env, log_dir / f"{name}.log")
        urls = {f"SHORTSCIENCE_{name.upper()}_URL": s.url for name, s in cluster.services.items()}
        cluster.services["gateway"] = Service("gateway", free_port(), {**env, **urls}, log_dir / "gateway.log")
        return cluster

    def __getitem__(self, name: str) -> Service:
        return self.services[name]

    @property
    def gateway_url(self) -> str:
        return self.services["gateway"].url

    def cli(self, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
        return subprocess.run([SHORTSCIENCE, *args], env={**self.env, **extra_env}, cwd=ROOT,
                              capture_output=True, text=True, timeout=120)

    async def start(self, **extra_env: dict[str, str]) -> None:
        """Every service, then the gateway; `extra_env` maps a service to variables of its own."""
        # The first admin, before the gateway (the identity store's only other process).
        done = await asyncio.to_thread(self.cli, "create-admin", ADMIN[0], "--email", "admin@example.org",
                                       "--password", ADMIN[1])
        assert done.returncode == 0, done.stdout + done.stderr
        for name, service in self.services.items():
            service.start(**extra_env.get(name, {}))
        for service in self.services.values():
            await service.wait_ready()

    async def restart(self, name: str, **extra_env: str) -> None:
        self.services[name].start(**extra_env)
        await self.services[name].wait_ready()

    def stop(self) -> None:
        for service in reversed(list(self.services.values())):
            service.stop()

