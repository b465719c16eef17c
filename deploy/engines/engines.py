#!/usr/bin/env python3
"""Real engines on loopback, without Docker: Kafka (KRaft), FerretDB (MongoDB wire protocol), OpenSearch.

    python3 deploy/engines/engines.py start  [kafka] [ferretdb] [opensearch]   # all when none named
    python3 deploy/engines/engines.py stop   [...]
    python3 deploy/engines/engines.py status [...]
    python3 deploy/engines/engines.py fetch  [...]

`start` fetches what is missing (Maven Central jars, a FerretDB binary built from its Go module),
wipes the engine's data, starts it in the background and waits until it really serves (a Kafka
Metadata answer listing the broker, a MongoDB `hello` with ok: 1, an OpenSearch cluster health of
yellow or green). Engines are fetched and started in parallel; the two Maven resolutions take turns.
Each healthy engine's address goes into `<ENGINES_DIR>/env` as an export line.

Settings (environment):
    ENGINES_DIR                         cache and state root (default: .engines at the repo root)
    ENGINES_KAFKA_PORT / ENGINES_KAFKA_CONTROLLER_PORT   19092 / 19093
    ENGINES_FERRETDB_PORT                                27027
    ENGINES_OPENSEARCH_PORT / ENGINES_OPENSEARCH_TRANSPORT_PORT   19200 / 19300
    ENGINES_KAFKA_HEAP / ENGINES_OPENSEARCH_HEAP         512m / 768m (maximum heap)
    ENGINES_TIMEOUT                     seconds to wait for an engine to serve (default 180)
    MAVEN_OPTS, GOMODCACHE, GOCACHE     passed through to mvn and go

Standard library only, so it runs before the project's virtualenv exists.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
FERRETDB_MODULE = "github.com/FerretDB/FerretDB"
FERRETDB_VERSION = "v1.24.2"

_print_lock = threading.Lock()
_maven_lock = threading.Lock()  # two mvn runs writing one local repository at once can corrupt it
_env_lock = threading.Lock()


def say(engine: str, message: str) -> None:
    with _print_lock:
        print(f"[engines] {engine}: {message}", flush=True)


class EngineError(RuntimeError):
    pass


@dataclass(frozen=True)
class Config:
    root: Path
    kafka_port: int
    kafka_controller_port: int
    ferretdb_port: int
    opensearch_port: int
    opensearch_transport_port: int
    kafka_heap: str
    opensearch_heap: str
    timeout: float

    @classmethod
    def from_env(cls) -> Config:
        env = os.environ
        root = Path(env.get("ENGINES_DIR") or REPO / ".engines").resolve()
        return cls(
            root=root,
            kafka_port=int(env.get("ENGINES_KAFKA_PORT", 19092)),
            kafka_controller_port=int(env.get("ENGINES_KAFKA_CONTROLLER_PORT", 19093)),
            ferretdb_port=int(env.get("ENGINES_FERRETDB_PORT", 27027)),
            opensearch_port=int(env.get("ENGINES_OPENSEARCH_PORT", 19200)),
            opensearch_transport_port=int(env.get("ENGINES_OPENSEARCH_TRANSPORT_PORT", 19300)),
            kafka_heap=env.get("ENGINES_KAFKA_HEAP", "512m"),
            opensearch_heap=env.get("ENGINES_OPENSEARCH_HEAP", "768m"),
            timeout=float(env.get("ENGINES_TIMEOUT", 180)),
        )

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def env_file(self) -> Path:
        return self.root / "env"


def run(engine: str, cmd: list[str], *, cwd: Path | None = None, env: dict | None = None, log: Path) -> str:
    """Run a build step, its output in `log`; raise with the log's tail when it fails."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as out:
        out.write(f"$ {' '.join(cmd)}\n")
        out.flush()
        result = subprocess.run(
            cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=out, stdin=subprocess.DEVNULL, text=True
        )
        out.write(result.stdout)
    if result.returncode != 0:
        raise EngineError(f"`{' '.join(cmd[:3])} ...` failed (exit {result.returncode}); see {log}\n{tail(log)}")
    return result.stdout


def tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join("    " + line for line in text[-lines:])


def digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
    return h.hexdigest()[:16]


def port_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def exchange(port: int, request: bytes, read: Callable[[socket.socket], bytes]) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=3) as sock:
        sock.sendall(request)
        return read(sock)


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("connection closed")
        data += chunk
    return data


class Engine:
    """One engine: how to fetch it, run it, probe it, and which address it serves."""

    name: str

    def __init__(self, config: Config) -> None:
        self.config = config
        self.cache = config.cache / self.name
        self.state = config.root / "run" / self.name
        self.log = self.state / f"{self.name}.log"
        self.pid_file = self.state / "pid"
        self.process: subprocess.Popen | None = None  # set when this process started the engine

    # -- to override -------------------------------------------------------------------
    def ports(self) -> list[int]:
        raise NotImplementedError

    def fetch(self) -> None:
        raise NotImplementedError

    def prepare(self) -> list[str]:
        """Write configuration into the (fresh) state dir; return the command to run."""
        raise NotImplementedError

    def healthy(self) -> bool:
        raise NotImplementedError

    def env_line(self) -> tuple[str, str]:
        raise NotImplementedError

    # -- lifecycle ---------------------------------------------------------------------
    def pid(self) -> int | None:
        """The pid of this engine's process when it runs (checked against its command line)."""
        try:
            pid = int(self.pid_file.read_text())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except (OSError, ValueError):
            return None
        return pid if str(self.state) in cmdline else None

    def start(self) -> None:
        self.stop(quiet=True)
        for port in self.ports():
            if port_answers(port):
                raise EngineError(
                    f"127.0.0.1:{port} is already taken by another process; stop it or set other ports "
                    "(see deploy/engines/engines.py)"
                )
        self.fetch()
        shutil.rmtree(self.state, ignore_errors=True)
        self.state.mkdir(parents=True)
        cmd = self.prepare()
        with self.log.open("ab") as out:
            process = subprocess.Popen(
                cmd, cwd=self.state, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: it outlives this script, stop() ends the group
            )
        self.process = process
        self.pid_file.write_text(str(process.pid))
        say(self.name, f"started (pid {process.pid}), waiting for it to serve; log: {self.log}")
        self.wait(process)

    def wait(self, process: subprocess.Popen) -> None:
        began = time.monotonic()
        deadline = began + self.config.timeout
        while True:
            code = process.poll()
            if code is not None:
                raise EngineError(f"exited with code {code} while starting; see {self.log}\n{tail(self.log)}")
            try:
                if self.healthy():
                    break
            except (OSError, ValueError, KeyError, struct.error):
                pass
            if time.monotonic() > deadline:
                self.stop(quiet=True)
                raise EngineError(
                    f"did not serve within {self.config.timeout:.0f} s (stopped it); see {self.log}\n{tail(self.log)}"
                )
            time.sleep(0.5)
        key, value = self.env_line()
        update_env_file(self.config.env_file, {key: value})
        say(self.name, f"healthy after {time.monotonic() - began:.1f} s: {key}={value}")

    def stop(self, quiet: bool = False) -> None:
        pid = self.pid()
        if pid is None:
            if not quiet:
                say(self.name, "not running")
        else:
            os.killpg(pid, signal.SIGTERM)
            if not self._gone(pid, within=30):
                os.killpg(pid, signal.SIGKILL)
                self._gone(pid, within=10)
                say(self.name, f"did not stop within 30 s; killed pid {pid}")
            elif not quiet:
                say(self.name, f"stopped (pid {pid})")
        self.pid_file.unlink(missing_ok=True)
        key, _ = self.env_line()
        update_env_file(self.config.env_file, {key: None})

    def _gone(self, pid: int, within: float) -> bool:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.process is not None and self.process.pid == pid:
                try:
                    self.process.wait(timeout=0.2)  # our own child: reap it
                    return True
                except subprocess.TimeoutExpired:
                    continue
            if self.pid() is None:
                return True
            time.sleep(0.2)
        return False

    def status(self) -> str:
        pid = self.pid()
        if pid is None:
            return "not running"
        try:
            serving = self.healthy()
        except (OSError, ValueError, KeyError, struct.error):
            serving = False
        key, value = self.env_line()
        return f"pid {pid}, {'serving' if serving else 'NOT serving'}: {key}={value}"

    # -- helpers -----------------------------------------------------------------------
    def maven_libs(self, project: Path) -> Path:
        """`mvn dependency:copy-dependencies` for the tiny pom in `project`, cached by its content."""
        pom = project / "pom.xml"
        stamp = digest(pom.read_bytes())
        libs = self.cache / "libs"
        stamp_file = self.cache / "libs.stamp"
        if libs.is_dir() and stamp_file.exists() and stamp_file.read_text() == stamp:
            return libs
        with _maven_lock:
            say(self.name, f"resolving jars from Maven Central ({pom.relative_to(REPO)})")
            shutil.rmtree(libs, ignore_errors=True)
            partial = self.cache / "libs.partial"
            shutil.rmtree(partial, ignore_errors=True)
            run(self.name, ["mvn", "-q", "-B", "-f", str(pom), "dependency:copy-dependencies",
                            f"-DoutputDirectory={partial}", "-DincludeScope=runtime"],
                log=self.cache / "fetch.log")
            partial.rename(libs)
            stamp_file.write_text(stamp)
        return libs


def update_env_file(path: Path, changes: dict[str, str | None]) -> None:
    with _env_lock:
        lines: dict[str, str] = {}
        if path.exists():
            for line in path.read_text().splitlines():
                if line.startswith("export ") and "=" in line:
                    key, value = line[len("export "):].split("=", 1)
                    lines[key] = value
        for key, value in changes.items():
            if value is None:
                lines.pop(key, None)
            else:
                lines[key] = value
        path.parent.mkdir(parents=True, exist_ok=True)
        if lines:
            path.write_text("".join(f"export {key}={value}\n" for key, value in sorted(lines.items())))
        else:
            path.unlink(missing_ok=True)


class Kafka(Engine):
    name = "kafka"

    def ports(self) -> list[int]:
        return [self.config.kafka_port, self.config.kafka_controller_port]

    def fetch(self) -> None:
        self.libs = self.maven_libs(HERE / "kafka")

    def prepare(self) -> list[str]:
        data = self.state / "data"
        c = self.config
        (self.state / "server.properties").write_text(
            "\n".join([
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.voters=1@127.0.0.1:{c.kafka_controller_port}",
                f"listeners=PLAINTEXT://127.0.0.1:{c.kafka_port},CONTROLLER://127.0.0.1:{c.kafka_controller_port}",
                f"advertised.listeners=PLAINTEXT://127.0.0.1:{c.kafka_port}",
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                f"log.dirs={data}",
                "num.partitions=1",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=3",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "auto.create.topics.enable=false",  # the adapters create their topics with the partitions they want
                "",
            ])
        )
        (self.state / "log4j2.properties").write_text(
            "\n".join([
                "status = warn",
                "appender.file.type = File",
                "appender.file.name = file",
                f"appender.file.fileName = {self.state / 'server.log'}",
                "appender.file.layout.type = PatternLayout",
                "appender.file.layout.pattern = [%d] %p %m (%c)%n",
                "rootLogger.level = info",
                "rootLogger.appenderRef.file.ref = file",
                "logger.state.name = state.change.logger",
                "logger.state.level = warn",
                "",
            ])
        )
        java = ["java", f"-Dlog4j2.configurationFile={self.state / 'log4j2.properties'}", "-cp", f"{self.libs}/*"]
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=").replace("-", "A")
        run(self.name, [*java, "kafka.tools.StorageTool", "format", "-t", cluster_id,
                        "-c", str(self.state / "server.properties")], log=self.log)
        return ["java", "-Xms256m", f"-Xmx{self.config.kafka_heap}", "-XX:+UseG1GC", "-Djava.awt.headless=true",
                *java[1:], "kafka.Kafka", str(self.state / "server.properties")]

    def healthy(self) -> bool:
        # Metadata v4 for all topics: it answers once the broker has registered with the controller
        # and lists itself. (Kafka 4 removed Metadata v0-v3.)
        client_id = b"engines"
        body = struct.pack(">hhih", 3, 4, 7, len(client_id)) + client_id + struct.pack(">ib", -1, 0)

        def read(sock: socket.socket) -> bytes:
            (size,) = struct.unpack(">i", recv_exactly(sock, 4))
            return recv_exactly(sock, size)

        reply = exchange(self.config.kafka_port, struct.pack(">i", len(body)) + body, read)
        correlation, _throttle, brokers = struct.unpack(">iii", reply[:12])
        return correlation == 7 and brokers >= 1

    def env_line(self) -> tuple[str, str]:
        return "KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{self.config.kafka_port}"


class FerretDB(Engine):
    name = "ferretdb"

    @property
    def binary(self) -> Path:
        return self.cache / "bin" / "ferretdb"

    def ports(self) -> list[int]:
        return [self.config.ferretdb_port]

    def fetch(self) -> None:
        stamp_file = self.cache / "bin.stamp"
        if self.binary.exists() and stamp_file.exists() and stamp_file.read_text() == FERRETDB_VERSION:
            return
        say(self.name, f"building {FERRETDB_MODULE}@{FERRETDB_VERSION} with go (first time only)")
        env = {**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=readonly"}
        log = self.cache / "fetch.log"
        info = json.loads(run(self.name, ["go", "mod", "download", "-json", f"{FERRETDB_MODULE}@{FERRETDB_VERSION}"],
                              cwd=self.cache.parent, env=env, log=log))
        # `go install module@version` builds a binary that panics at start: the module zip lacks the
        # build/version/version.txt it embeds (FerretDB issue 2982). Build from a writable copy instead.
        src = self.cache / "src"
        shutil.rmtree(src, ignore_errors=True)
        shutil.copytree(info["Dir"], src)
        for path in [src, *src.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)
        (src / "build" / "version" / "version.txt").write_text(FERRETDB_VERSION + "\n")
        run(self.name, ["go", "build", "-o", str(self.binary), "./cmd/ferretdb"], cwd=src, env=env, log=log)
        shutil.rmtree(src)
        stamp_file.write_text(FERRETDB_VERSION)

    def prepare(self) -> list[str]:
        data = self.state / "data"
        data.mkdir()
        return [str(self.binary), "--handler=sqlite", f"--sqlite-url=file:{data}/",
                f"--listen-addr=127.0.0.1:{self.config.ferretdb_port}", f"--state-dir={self.state}",
                "--debug-addr=-", "--telemetry=disable", "--log-level=warn"]

    def healthy(self) -> bool:
        # OP_MSG {hello: 1, $db: "admin"}; healthy when the reply carries ok: 1.0.
        def element_int(key: str, value: int) -> bytes:
            return b"\x10" + key.encode() + b"\x00" + struct.pack("<i", value)

        def element_str(key: str, value: str) -> bytes:
            raw = value.encode() + b"\x00"
            return b"\x02" + key.encode() + b"\x00" + struct.pack("<i", len(raw)) + raw

        elements = element_int("hello", 1) + element_str("$db", "admin")
        document = struct.pack("<i", len(elements) + 5) + elements + b"\x00"
        payload = struct.pack("<I", 0) + b"\x00" + document
        message = struct.pack("<iiii", 16 + len(payload), 1, 0, 2013) + payload

        def read(sock: socket.socket) -> bytes:
            (size,) = struct.unpack("<i", recv_exactly(sock, 4))
            return recv_exactly(sock, size - 4)

        reply = exchange(self.config.ferretdb_port, message, read)
        return b"\x01ok\x00" + struct.pack("<d", 1.0) in reply

    def env_line(self) -> tuple[str, str]:
        return "MONGODB_URL", f"mongodb://127.0.0.1:{self.config.ferretdb_port}/?directConnection=true"


class OpenSearch(Engine):
    name = "opensearch"

    def ports(self) -> list[int]:
        return [self.config.opensearch_port, self.config.opensearch_transport_port]

    def fetch(self) -> None:
        launcher = HERE / "opensearch" / "OpenSearchNode.java"
        self.libs = self.maven_libs(HERE / "opensearch")
        self.classes = self.cache / "classes"
        stamp = digest(launcher.read_bytes())
        stamp_file = self.cache / "classes.stamp"
        if not (stamp_file.exists() and stamp_file.read_text() == stamp):
            shutil.rmtree(self.classes, ignore_errors=True)
            run(self.name, ["javac", "-cp", f"{self.libs}/*", "-d", str(self.classes), str(launcher)],
                log=self.cache / "fetch.log")
            stamp_file.write_text(stamp)

    def prepare(self) -> list[str]:
        heap = self.config.opensearch_heap
        return ["java", f"-Xms{heap}", f"-Xmx{heap}", "-XX:+UseG1GC", "-Djava.awt.headless=true",
                "-cp", f"{self.classes}:{self.libs}/*", "OpenSearchNode", str(self.state / "node"),
                str(self.config.opensearch_port), str(self.config.opensearch_transport_port)]

    def healthy(self) -> bool:
        url = f"http://127.0.0.1:{self.config.opensearch_port}/_cluster/health"
        try:
            with urllib.request.urlopen(url, timeout=3) as response:
                return json.load(response).get("status") in {"green", "yellow"}
        except urllib.error.URLError:
            return False

    def env_line(self) -> tuple[str, str]:
        return "OPENSEARCH_URL", f"http://127.0.0.1:{self.config.opensearch_port}"


ENGINES: dict[str, type[Engine]] = {"kafka": Kafka, "ferretdb": FerretDB, "opensearch": OpenSearch}


def in_parallel(engines: list[Engine], action: Callable[[Engine], None]) -> list[str]:
    failures: list[str] = []

    def one(engine: Engine) -> None:
        try:
            action(engine)
        except (EngineError, OSError) as error:
            failures.append(engine.name)
            say(engine.name, f"FAILED: {error}")

    threads = [threading.Thread(target=one, args=(engine,), name=engine.name) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["fetch", "start", "stop", "status"])
    parser.add_argument("engines", nargs="*", metavar="engine", help=f"some of {', '.join(ENGINES)} (default: all)")
    args = parser.parse_args(argv)
    unknown = set(args.engines) - set(ENGINES)
    if unknown:
        parser.error(f"unknown engine(s) {', '.join(sorted(unknown))}; choose from {', '.join(ENGINES)}")
    config = Config.from_env()
    engines = [ENGINES[name](config) for name in (args.engines or ENGINES)]

    if args.command == "status":
        for engine in engines:
            say(engine.name, engine.status())
        return 0
    if args.command == "stop":
        for engine in engines:
            engine.stop()
        return 0
    for engine in engines:
        engine.cache.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    failures = in_parallel(engines, Engine.fetch if args.command == "fetch" else Engine.start)
    took = time.monotonic() - began
    if failures:
        print(f"[engines] {args.command} failed for {', '.join(failures)} after {took:.0f} s", file=sys.stderr)
        return 1
    print(f"[engines] {args.command} done in {took:.0f} s", flush=True)
    if args.command == "start":
        print(f"[engines] addresses in {config.env_file} (source it):", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
