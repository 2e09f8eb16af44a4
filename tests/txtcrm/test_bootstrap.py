"""First-run wiring (admin login, sandbox credentials) and environment-driven settings."""

import stat

import pytest
from django.contrib.auth import get_user_model

from sandbox import services as sandbox_services
from startup import bootstrap
from txtcrm.envfile import read_env_file
from txtcrm.settings import database_config


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.SANDBOX_ENV_FILE = tmp_path / "sandbox.env"
    return tmp_path


@pytest.mark.django_db
def test_first_run_creates_an_admin_and_keeps_its_login_private(var_dir):
    login = bootstrap.ensure_admin()

    assert login.created
    user = get_user_model().objects.get(username=login.username)
    assert user.is_superuser and user.check_password(login.password)
    assert stat.S_IMODE((var_dir / "admin.env").stat().st_mode) == 0o600


@pytest.mark.django_db
def test_later_runs_reuse_the_admin_and_print_its_login_until_it_changes(var_dir):
    first = bootstrap.ensure_admin()
    again = bootstrap.ensure_admin()

    assert (again.created, again.password) == (False, first.password)
    user = get_user_model().objects.get(username=first.username)
    user.set_password("a-new-password-9")
    user.save()
    assert bootstrap.ensure_admin().password is None
    assert get_user_model().objects.count() == 1


@pytest.mark.django_db
def test_no_admin_is_made_when_a_superuser_exists(var_dir, admin_user):
    login = bootstrap.ensure_admin()

    assert (login.username, login.created, login.password) == ("ada", False, None)


@pytest.mark.django_db
def test_sandbox_credentials_are_created_once_and_saved_for_every_process(var_dir, settings):
    settings.TXTSYNC_CLIENT_KEY = settings.TXTSYNC_CLIENT_SECRET = ""

    first = bootstrap.ensure_sandbox_credentials()
    again = bootstrap.ensure_sandbox_credentials()

    assert first == again == read_env_file(var_dir / "sandbox.env")
    assert sandbox_services.check_credentials(
        first["TXTSYNC_CLIENT_KEY"], first["TXTSYNC_CLIENT_SECRET"]
    )[1]
    assert stat.S_IMODE((var_dir / "sandbox.env").stat().st_mode) == 0o600


@pytest.mark.django_db
def test_stale_sandbox_credentials_are_replaced(var_dir, settings):
    settings.TXTSYNC_CLIENT_KEY, settings.TXTSYNC_CLIENT_SECRET = "tsk_gone", "old"

    pairs = bootstrap.ensure_sandbox_credentials()

    assert pairs["TXTSYNC_CLIENT_KEY"] != "tsk_gone"
    assert pairs["TXTSYNC_CLIENT_KEY"] == settings.TXTSYNC_CLIENT_KEY


@pytest.mark.parametrize(
    ("base_url", "builtin"),
    [
        ("http://127.0.0.1:8000/sandbox/", True),
        ("http://127.0.0.1:8000/sandbox", True),
        ("https://api.txtsync.com/", False),
        ("http://127.0.0.1:9000/sandbox/", False),
    ],
)
def test_the_builtin_sandbox_is_recognised_by_its_url(settings, base_url, builtin):
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    settings.TXTSYNC_BASE_URL = base_url

    assert bootstrap.uses_builtin_sandbox() is builtin


def test_sqlite_gets_wal_and_immediate_transactions():
    config = database_config("sqlite:////tmp/x.sqlite3")

    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]


def test_postgres_urls_are_parsed():
    config = database_config("postgres://crm:pw@db.internal:5433/txtcrm")

    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("db.internal", 5433, "txtcrm")
