"""The saved token: private to its owner, shared by the CLI and the plug-ins."""

from __future__ import annotations

import json
import stat

import pytest

from recraft_core import Client, ValidationError, settings


def test_save_is_private_and_load_reads_it(private_settings):
    path = settings.save(settings.Settings("tok-123", "http://127.0.0.1:8000/v1"))
    assert path == private_settings
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert settings.load() == settings.Settings("tok-123", "http://127.0.0.1:8000/v1")
    assert "tok-123" not in repr(settings.load())
    assert not [p for p in path.parent.iterdir() if p.name != path.name]  # no temp files left


def test_a_loosened_file_is_made_private_again(private_settings):
    path = settings.save(settings.Settings("tok"))
    path.chmod(0o644)
    assert settings.load().token == "tok"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("content", ["", "not json", "[1]", '{"token": 5}'])
def test_a_damaged_file_reads_as_empty(private_settings, content):
    private_settings.parent.mkdir(parents=True)
    private_settings.write_text(content)
    assert settings.load() == settings.Settings()


def test_client_token_order(private_settings, monkeypatch):
    settings.save(settings.Settings("saved-token", "http://127.0.0.1:8000/v1"))
    saved = Client()
    assert (saved._transport._token, saved.base_url) == ("saved-token", "http://127.0.0.1:8000/v1")
    monkeypatch.setenv("RECRAFT_API_TOKEN", "env-token")
    from_env = Client()
    # The saved URL belongs to the saved token: an env token goes to the default API.
    assert (from_env._transport._token, from_env.base_url) == (
        "env-token",
        "https://external.api.recraft.ai/v1",
    )
    assert Client("arg-token")._transport._token == "arg-token"
    settings.forget()
    monkeypatch.delenv("RECRAFT_API_TOKEN")
    with pytest.raises(ValidationError, match="recraft login"):
        Client()


def test_cli_login_checks_saves_and_logout_forgets(run_cli, recraft_server, private_settings):
    url = recraft_server.base_url
    env = {"RECRAFT_CONFIG": str(private_settings)}
    bad = run_cli("--base-url", url, "login", input="wrong-token\n", **env)
    assert bad.returncode == 4 and not private_settings.exists()
    good = run_cli("--base-url", url, "login", input=recraft_server.token + "\n", **env)
    assert good.returncode == 0, good.stderr
    assert json.loads(private_settings.read_text()) == {
        "token": recraft_server.token,
        "base_url": url,
    }
    assert recraft_server.token not in good.stderr + good.stdout
    used = run_cli("user", **env)  # no token or URL in the environment: the saved login
    assert used.returncode == 0 and "credits" in used.stdout
    assert run_cli("logout", **env).returncode == 0 and not private_settings.exists()


def test_settings_path_follows_the_platform(monkeypatch, tmp_path):
    monkeypatch.delenv("RECRAFT_CONFIG")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert settings.path() == tmp_path / "recraft" / "settings.json"


def test_cli_login_without_a_token_saves_nothing(run_cli):
    settings.save(settings.Settings("old-token"))
    r = run_cli("login", "--no-check", input="\n", RECRAFT_API_TOKEN="env-token")
    assert r.returncode == 3 and "no token given" in r.stderr
    assert settings.load().token == "old-token"


def test_library_settings_round_trip_and_survive_a_dialog(private_settings):
    from recraft_core import settings

    settings.save(settings.Settings("tok", library_folder="/srv/lib", library_cap_gb=0))
    loaded = settings.load()
    assert (loaded.library_folder, loaded.library_cap_gb, loaded.library_off) == (
        "/srv/lib",
        0,
        False,
    )
    # A Settings dialog shows the ENTRIES only: saving it keeps the library's settings.
    settings.save(settings.with_values({"token": "new", "base_url": " ", "grow": 4, "feather": 2}))
    again = settings.load()
    assert again.token == "new" and again.base_url is None and again.library_folder == "/srv/lib"
    settings.save(settings.Settings("tok", library_off=True))
    assert settings.load().library_off is True


@pytest.mark.parametrize(
    ("saved", "read"), [(3, 3), (1, 1), (8, 8), (0, None), (9, None), (True, None)]
)
def test_jobs_at_once_round_trips_within_its_range(private_settings, saved, read):
    private_settings.parent.mkdir(parents=True, exist_ok=True)
    private_settings.write_text(json.dumps({"jobs_at_once": saved}))
    assert settings.load().jobs_at_once == read
    settings.save(settings.load())
    assert json.loads(private_settings.read_text()).get("jobs_at_once") == read


def test_the_check_token_sentence_both_settings_dialogs_show(recraft_server):
    from recraft_core.workflow.editor import token_check

    url = recraft_server.base_url
    assert token_check(f"  {recraft_server.token} ", url) == (
        f"Token works: {recraft_server.credits} credits."
    )
    wrong = token_check("rk-not-this-one", url)
    assert wrong.startswith("Wrong token") and "rk-not-this-one" not in wrong
    assert token_check("", url) == "Paste your Recraft API token first."
    assert token_check("rk-x", "ftp://example.com").startswith("Server")
