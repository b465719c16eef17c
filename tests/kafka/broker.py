"""A Kafka broker of a test's own, configured exactly as `make engines` configures the shared
one (deploy/engines/engines.py writes the properties), but on spare ports and in the test's
directory, so the test can stop and restart it without touching anyone else's broker."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.engines import _missing

REPO = Path(__file__).resolve().parents[2]


def _engines_module():
    """deploy/engines/engines.py (a script, not a package), loaded once."""
    name = "shortscience_deploy_engines"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "deploy" / "engines" / "engines.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # its dataclasses look their module up while being defined
        spec.loader.exec_module(module)
    return sys.modules[name]


def kafka_jars() -> Path:
    """The broker jars `make engines` cached (ENGINES_DIR, default .engines); skip without them."""
    engines = _engines_module()
    jars = engines.Config.from_env().cache / "kafka" / "libs"
    if not any(jars.glob("kafka_2.13-*.jar")):
        _missing(f"Kafka jars not found in {jars} (run `make engines`)")
    return jars


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ThrowawayBroker:
    def __init__(self, root: Path, jars: Path, *, timeout: float = 90.0) -> None:
        engines = _engines_module()
        config = dataclasses.replace(
            engines.Config.from_env(), root=root, kafka_port=_free_port(), kafka_controller_port=_free_port(),
            kafka_heap="384m", timeout=timeout,
        )
        self._engine = engines.Kafka(config)
        self._engine.libs = jars
        self._engine.state.mkdir(parents=True, exist_ok=True)
        self._command = self._engine.prepare()  # writes server.properties and formats the storage once
        self._process: subprocess.Popen | None = None
        self.timeout = timeout
        self.bootstrap_servers = f"127.0.0.1:{config.kafka_port}"

    def start(self) -> None:
        """Start (or start again, on the same data) and return once the broker serves."""
        assert self._process is None, "already running"
        with self._engine.log.open("ab") as out:
            self._process = subprocess.Popen(self._command, cwd=self._engine.state, stdout=out,
                                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                             start_new_session=True)
        deadline = time.monotonic() + self.timeout
        while not self._serves():
            if self._process.poll() is not None:
                raise RuntimeError(f"the throwaway broker exited; see {self._engine.log}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the throwaway broker did not serve within {self.timeout} s")
            time.sleep(0.2)

    def _serves(self) -> bool:
        try:
            return self._engine.healthy()
        except Exception:
            return False

    def stop(self) -> None:
        """A clean shutdown (SIGTERM to its own process group), as an operator's restart does."""
        process, self._process = self._process, None
        if process is None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
