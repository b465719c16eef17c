"""deploy/engines/engines.py: its health probes against the real engines, its env file, and a
whole start/stop cycle of one engine on its own ports and state directory."""

from __future__ import annotations

import importlib.util
import os
import socket
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from tests.engines import engine_host_port

ROOT = Path(__file__).resolve().parents[2]


def _load_script():
    spec = importlib.util.spec_from_file_location("deploy_engines_script", ROOT / "deploy" / "engines" / "engines.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


engines = _load_script()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def config(tmp_path: Path, **ports: int):
    base = engines.Config(root=tmp_path, kafka_port=free_port(), kafka_controller_port=free_port(),
                          ferretdb_port=free_port(), opensearch_port=free_port(),
                          opensearch_transport_port=free_port(), kafka_heap="512m", opensearch_heap="512m",
                          timeout=60)
    return replace(base, **ports)


def test_env_file_adds_replaces_and_removes_lines(tmp_path):
    path = tmp_path / "env"
    engines.update_env_file(path, {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "MONGODB_URL": "mongodb://x"})
    engines.update_env_file(path, {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:2"})
    assert path.read_text() == "export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:2\nexport MONGODB_URL=mongodb://x\n"
    engines.update_env_file(path, {"KAFKA_BOOTSTRAP_SERVERS": None})
    assert path.read_text() == "export MONGODB_URL=mongodb://x\n"
    engines.update_env_file(path, {"MONGODB_URL": None})
    assert not path.exists()


def test_kafka_probe_sees_a_serving_broker(kafka_bootstrap, tmp_path):
    host, port = engine_host_port(kafka_bootstrap.split(",")[0], 9092)
    if host not in {"127.0.0.1", "localhost"}:
        pytest.skip(f"the probes look at loopback only; Kafka is at {host}")
    assert engines.Kafka(config(tmp_path, kafka_port=port)).healthy()


def test_ferretdb_probe_sees_a_serving_mongodb_protocol_server(mongodb_url, tmp_path):
    host, port = engine_host_port(mongodb_url, 27017)
    if host not in {"127.0.0.1", "localhost"}:
        pytest.skip(f"the probes look at loopback only; MongoDB is at {host}")
    assert engines.FerretDB(config(tmp_path, ferretdb_port=port)).healthy()


def test_opensearch_probe_sees_a_serving_search_node(search_engine, tmp_path):
    host, port = engine_host_port(search_engine.url, 9200)
    if host not in {"127.0.0.1", "localhost"}:
        pytest.skip(f"the probes look at loopback only; the search engine is at {host}")
    assert engines.OpenSearch(config(tmp_path, opensearch_port=port)).healthy()


def test_probes_fail_when_nothing_listens(tmp_path):
    settings = config(tmp_path)
    for engine in (engines.Kafka(settings), engines.FerretDB(settings)):
        with pytest.raises(OSError):
            engine.healthy()
    assert engines.OpenSearch(settings).healthy() is False


def test_start_serves_on_its_own_port_writes_env_and_stop_ends_it(tmp_path):
    """One whole cycle with FerretDB (it starts in well under a second), reusing the built binary."""
    cache = Path(os.environ.get("ENGINES_DIR") or ROOT / ".engines") / "cache"
    if not (cache / "ferretdb" / "bin" / "ferretdb").exists():
        pytest.skip("no FerretDB binary built yet (run `make engines`)")
    (tmp_path / "cache").symlink_to(cache)
    engine = engines.FerretDB(config(tmp_path))
    engine.start()
    try:
        pid = engine.pid()
        assert pid is not None and engine.healthy()
        assert f"MONGODB_URL=mongodb://127.0.0.1:{engine.config.ferretdb_port}/" in (tmp_path / "env").read_text()
        (engine.state / "data" / "left-over").write_text("x")
        engine.start()  # a restart wipes the data directory
        assert not (engine.state / "data" / "left-over").exists() and engine.healthy()
    finally:
        engine.stop()
    assert engine.pid() is None
    assert not Path(f"/proc/{pid}/cmdline").exists() or str(engine.state) not in Path(
        f"/proc/{pid}/cmdline").read_text(errors="replace")
    assert not (tmp_path / "env").exists()
    with pytest.raises(OSError):
        engine.healthy()
