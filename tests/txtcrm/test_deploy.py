"""The production deployment files agree with each other.

Docker cannot run here, so docker-compose.yml is checked by reading it: its services,
health checks and volumes, and that each command is deploy/processes.py's, the one
source that `make prod-check` (deploy/prod_check.py) starts without Docker.
"""

import json
import re
import runpy
from pathlib import Path

import pytest
import yaml

from deploy import processes, prod_check
from tests.support.processes import ROOT
from txtcrm import queues
from txtcrm.settings import static_storage

APP_SERVICES = {"migrate", "web", "worker-interactive", "worker-background", "beat"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_the_production_services(compose):
    assert set(compose["services"]) == APP_SERVICES | {"db", "redis"}
    assert compose["services"]["db"]["image"].startswith("postgres:")
    assert compose["services"]["redis"]["image"].startswith("redis:")


def test_each_compose_command_is_the_one_prod_check_runs(compose):
    assert set(processes.SERVICES) == APP_SERVICES
    for name, command in processes.SERVICES.items():
        assert compose["services"][name]["command"] == command, name


def test_make_prod_check_starts_the_same_commands():
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^prod-check:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe, "Makefile has no prod-check target"
    assert recipe.group(1).strip() == "$(PY) deploy/prod_check.py"
    # prod_check starts processes.SERVICES[name] for every long-running service.
    assert prod_check.processes is processes
    source = Path(prod_check.__file__).read_text()
    assert "processes.SERVICES[name]" in source
    assert "for name in processes.LONG_RUNNING" in source
    assert set(processes.LONG_RUNNING) == APP_SERVICES - {"migrate"}


def test_the_workers_together_consume_every_queue(compose):
    consumed = []
    for name in ("worker-interactive", "worker-background"):
        command = compose["services"][name]["command"]
        consumed += command[command.index("--queues") + 1].split(",")
    assert sorted(consumed) == sorted(queues.QUEUES)  # each queue once


def test_health_checks_and_startup_order(compose):
    services = compose["services"]
    for name in ("db", "redis", "web", "worker-interactive", "worker-background"):
        assert services[name]["healthcheck"]["test"], name
    assert any("/healthz" in part for part in services["web"]["healthcheck"]["test"])
    for name in APP_SERVICES - {"migrate"}:
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["db"]["condition"] == "service_healthy"
    assert services["migrate"]["restart"] == "no"


def test_volumes_keep_the_data(compose):
    services = compose["services"]
    assert set(compose["volumes"]) == {"pgdata", "redisdata", "vardata"}
    assert "pgdata:/var/lib/postgresql/data" in services["db"]["volumes"]
    for name in APP_SERVICES:  # web and workers share CSV uploads under var/
        assert "vardata:/app/var" in services[name]["volumes"], name


def test_dockerfile_runs_the_web_command_as_a_user_after_collectstatic():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM python:3.11-slim" in dockerfile
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile, re.MULTILINE)
    assert json.loads(cmd.group(1)) == processes.WEB
    assert "collectstatic --noinput" in dockerfile
    user = re.search(r"^USER (\S+)$", dockerfile, re.MULTILINE)
    assert user and user.group(1) != "root"


def test_gunicorn_config_threads_timeouts_and_a_safe_access_log(monkeypatch):
    for name in ("WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    config = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))

    assert config["wsgi_app"] == "txtcrm.wsgi:application"
    assert config["workers"] >= 2
    assert config["worker_class"] == "gthread" and config["threads"] >= 4
    assert 0 < config["timeout"] <= 60 and config["graceful_timeout"] > 0
    # No query string (q), referrer (f), user (u) or request header ({...}i); the request
    # line (r) is rebuilt without its query by the logger class.
    atoms = set(re.findall(r"%\((.*?)\)s", config["access_log_format"]))
    assert atoms <= {"h", "t", "r", "m", "U", "H", "s", "B", "b", "M", "D", "a", "{x-request-id}o"}
    assert config["logger_class"] == "txtcrm.gunicorn_logging.RedactingLogger"


def test_gunicorn_config_follows_the_environment(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "6")
    monkeypatch.setenv("GUNICORN_BIND", "127.0.0.1:9001")
    config = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))

    assert (config["workers"], config["bind"]) == (6, "127.0.0.1:9001")


def test_static_files_use_the_manifest_only_in_production_once_collected(tmp_path):
    manifest = "whitenoise.storage.CompressedManifestStaticFilesStorage"
    plain = "django.contrib.staticfiles.storage.StaticFilesStorage"

    assert static_storage(tmp_path, debug=False, collecting=False) == plain  # not collected
    assert static_storage(tmp_path, debug=False, collecting=True) == manifest  # collecting
    (tmp_path / "staticfiles.json").write_text("{}")
    assert static_storage(tmp_path, debug=False, collecting=False) == manifest
    assert static_storage(tmp_path, debug=True, collecting=False) == plain  # make run
