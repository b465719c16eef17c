"""The production stack as written: docker-compose.yml, .env.example and deploy/Dockerfile.

There is no Docker engine here to run the stack, so these tests read the files and hold them
to what the stack promises: every container built or pulled, health-checked and started only
after what it needs is healthy; one published port; secrets only from .env; and service
settings that the services' own Settings classes accept.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

from gateway.config import GatewaySettings
from services.papers.config import PapersSettings
from services.search.config import SearchSettings
from services.social.config import SocialSettings
from services.summaries.config import SummariesSettings
from shortscience.cli import SERVICES

ROOT = Path(__file__).resolve().parents[2]
ENGINES = {"kafka", "mongodb", "elasticsearch"}
SETTINGS = {"gateway": GatewaySettings, "papers": PapersSettings, "summaries": SummariesSettings,
            "search": SearchSettings, "social": SocialSettings}
SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|_KEY$")
INTERPOLATION = re.compile(r"\$\{([A-Z][A-Z0-9_]*)(?:(:?[-?])([^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict[str, dict]:
    return compose["services"]


def app_services(services: dict) -> dict[str, dict]:
    return {name: spec for name, spec in services.items() if name not in ENGINES}


def environment(spec: dict) -> dict[str, str]:
    env = spec.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def interpolate(value: str, given: dict[str, str]) -> str:
    """Compose's substitution with `given` as the .env file; an unset required variable fails."""
    def one(match: re.Match) -> str:
        name, operator, argument = match.groups()
        if given.get(name):
            return given[name]
        if operator and operator.endswith("?"):
            raise AssertionError(f"required variable {name} is not set: {argument}")
        return argument if operator and operator.endswith("-") else ""

    return INTERPOLATION.sub(one, value).replace("$$", "$")


def test_the_stack_has_the_engines_the_services_and_the_gateway(services):
    assert set(services) == ENGINES | set(SERVICES)


def test_every_service_has_an_image_or_a_build(services):
    for name, spec in services.items():
        assert spec.get("image") or spec.get("build"), name


def test_every_service_has_a_healthcheck(services):
    for name, spec in services.items():
        check = spec.get("healthcheck")
        assert check and not check.get("disable"), name
        assert check.get("test") and check["test"] not in (["NONE"], "NONE"), name


def test_the_services_report_health_on_readyz_of_the_port_they_serve(services):
    for name, spec in app_services(services).items():
        command = spec["command"]
        assert command[:2] == ["serve", name], name
        port = command[command.index("--port") + 1]
        test = " ".join(spec["healthcheck"]["test"])
        assert f"127.0.0.1:{port}/readyz" in test or f"127.0.0.1:{port}/healthz" in test, name


def test_only_the_gateway_publishes_ports(services):
    publishing = {name for name, spec in services.items() if spec.get("ports")}
    assert publishing == {"gateway"}
    for name, spec in services.items():
        assert "network_mode" not in spec, name  # host networking would publish everything


def test_engines_sit_only_on_the_internal_network(compose, services):
    for name in ENGINES:
        for network in services[name]["networks"]:
            assert compose["networks"][network].get("internal") is True, (name, network)


def test_every_depends_on_waits_for_health(services):
    for name, spec in services.items():
        depends = spec.get("depends_on") or {}
        assert isinstance(depends, dict), f"{name}: use the long form with a condition"
        for target, options in depends.items():
            assert target in services, (name, target)
            assert options == {"condition": "service_healthy"}, (name, target)


def test_services_start_after_healthy_engines_and_the_gateway_after_the_services(services):
    for name, spec in app_services(services).items():
        assert ENGINES <= set(spec["depends_on"]), name
    assert set(SERVICES) - {"gateway"} <= set(services["gateway"]["depends_on"])


def test_data_lives_in_named_volumes(compose, services):
    declared = set(compose.get("volumes") or {})
    for name in ENGINES:
        named = [mount.split(":")[0] for mount in services[name].get("volumes", [])
                 if not mount.startswith((".", "/"))]
        assert named, f"{name} keeps its data in a named volume"
        assert set(named) <= declared, name


def test_no_secret_is_written_in_the_file(services):
    for name, spec in services.items():
        for key, value in environment(spec).items():
            if SECRET_NAME.search(key):
                match = INTERPOLATION.fullmatch(value)
                assert match, f"{name}: {key} must come from .env, not be written inline"
                assert not (match.group(2) or "").endswith("-") or not match.group(3), (
                    f"{name}: {key} must have no default value")
            masked = INTERPOLATION.sub("VAR", value)  # `${NAME:?message}` has colons of its own
            if "://" in masked and "@" in masked:
                password = masked.split("://", 1)[1].rsplit("@", 1)[0].partition(":")[2]
                assert password == "VAR", f"{name}: the password in {key} must come from .env"


def test_every_variable_the_stack_reads_is_in_env_example():
    compose_text = (ROOT / "docker-compose.yml").read_text()
    example = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", example, flags=re.MULTILINE))
    uncommented = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", example, flags=re.MULTILINE))
    for name, operator, _ in INTERPOLATION.findall(compose_text):
        assert name in listed, f"{name} is missing from .env.example"
        if operator.endswith("?"):
            assert name in uncommented, f"{name} is required: list it uncommented in .env.example"


def test_env_example_leaves_every_secret_empty():
    for line in (ROOT / ".env.example").read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.startswith("#") and SECRET_NAME.search(name):
            assert value == "", f".env.example must not carry a value for {name}"


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_accepts_the_settings_the_stack_gives_it(service, services, monkeypatch):
    """The variables' names and values are the ones the service's Settings class reads."""
    dot_env = {
        "SHORTSCIENCE_INTERNAL_SECRET": "s" * 32, "SHORTSCIENCE_PUBLIC_URL": "https://example.org",
        "MONGO_ROOT_USERNAME": "root", "MONGO_ROOT_PASSWORD": "r" * 16,
        "MONGO_APP_USERNAME": "app", "MONGO_APP_PASSWORD": "a" * 16,
        "ELASTIC_PASSWORD": "e" * 16, "KAFKA_CLUSTER_ID": "MkU3OEVBNTcwNTJENDM2Qk",
    }
    env = {key: interpolate(value, dot_env) for key, value in environment(services[service]).items()}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = SETTINGS[service]()
    assert settings.environment == "production"
    assert (settings.events, settings.store, settings.search) == ("kafka", "mongo", "elasticsearch")
    assert settings.internal_secret == dot_env["SHORTSCIENCE_INTERNAL_SECRET"]
    assert settings.kafka_bootstrap_servers == "kafka:9092"
    mongo = urlparse(settings.mongodb_url)
    assert (mongo.hostname, mongo.username, mongo.password) == ("mongodb", "app", "a" * 16)
    search = urlparse(settings.search_engine_url)
    assert (search.hostname, search.username, search.password) == ("elasticsearch", "elastic", "e" * 16)
    if service == "gateway":
        for name in set(SERVICES) - {"gateway"}:
            url = urlparse(getattr(settings, f"{name}_url"))
            target = services[url.hostname]["command"]
            assert url.hostname == name and str(url.port) == target[target.index("--port") + 1]


def test_the_image_is_slim_runs_as_a_user_and_checks_its_health():
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    final_stage = dockerfile.split("\nFROM ")[-1]
    assert "slim" in final_stage.splitlines()[0]
    users = re.findall(r"^USER\s+(\S+)", final_stage, flags=re.MULTILINE)
    assert users and users[-1] not in {"root", "0"}
    assert re.search(r"^HEALTHCHECK .*/readyz", final_stage, flags=re.MULTILINE | re.DOTALL)
