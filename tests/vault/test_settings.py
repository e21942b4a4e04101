"""Settings precedence (defaults < strongroom.toml < STRONGROOM_* < flags) and passphrase sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from vault import VaultError
from web.unlock import passphrase_from, read_secret_key, write_secret_key
from web.settings import Settings, SettingsError


def test_precedence(tmp_path: Path) -> None:
    (tmp_path / "strongroom.toml").write_text('port = 9001\njurisdiction = "EE"\nrescan_seconds = 60\n')
    env = {"STRONGROOM_HOME": str(tmp_path), "STRONGROOM_PORT": "9002", "STRONGROOM_REQUIRE_SECOND_APPROVER": "yes"}
    s = Settings.load({"port": 9003, "host": None}, environ=env)
    assert (s.home, s.port, s.jurisdiction, s.rescan_seconds) == (tmp_path, 9003, "EE", 60.0)
    assert s.require_second_approver is True and s.host == "127.0.0.1"
    assert Settings.load(environ=env).port == 9002
    assert Settings.load({"home": str(tmp_path)}, environ={}).port == 9001
    assert s.plan_file == tmp_path / "plan.toml" and s.secret_key_path == tmp_path / "flask-secret.key"


def test_load_apart_ignores_what_picks_a_home_a_secret_or_a_place_to_write(tmp_path: Path) -> None:
    env = {"STRONGROOM_HOME": "/elsewhere", "STRONGROOM_PASSPHRASE": "theirs", "STRONGROOM_PASSPHRASE_FILE": "/pp",
           "STRONGROOM_ADMIN_PASSWORD": "theirs too", "STRONGROOM_USER_PASSWORD": "", "STRONGROOM_PLAN": "/p.toml",
           "STRONGROOM_SECRET_KEY_FILE": "/k", "STRONGROOM_LANGUAGE": "sl", "STRONGROOM_PORT": "9002"}
    s, ignored = Settings.load_apart({"home": tmp_path, "passphrase": "the demo's"}, environ=env)
    assert ignored == ["STRONGROOM_ADMIN_PASSWORD", "STRONGROOM_HOME", "STRONGROOM_PASSPHRASE",
                       "STRONGROOM_PASSPHRASE_FILE", "STRONGROOM_PLAN", "STRONGROOM_SECRET_KEY_FILE"]
    assert (s.home, s.passphrase, s.passphrase_file, s.admin_password) == (tmp_path, "the demo's", None, None)
    assert s.plan_file == tmp_path / "plan.toml" and s.secret_key_path == tmp_path / "flask-secret.key"
    assert (s.language, s.port) == ("sl", 9002)  # preferences that write nowhere still apply
    assert Settings.load_apart({"home": tmp_path}, environ={"STRONGROOM_LANGUAGE": "et"})[1] == []


def test_toml_written_by_init_reads_back(tmp_path: Path) -> None:
    s = Settings.load({"home": str(tmp_path), "jurisdiction": "SI+EE", "port": 8800}, environ={})
    s.settings_file.write_text(s.toml_text())
    assert Settings.load({"home": str(tmp_path)}, environ={}) == s


@pytest.mark.parametrize("toml, message", [
    ('passphrase = "x"\n', "must not hold"), ('colour = "red"\n', "unknown setting"),
    ('port = "many"\n', "not a valid int"), ('jurisdiction = "DE"\n', "jurisdiction"), ("port = [\n", "not valid TOML")])
def test_bad_settings_are_one_sentence(tmp_path: Path, toml: str, message: str) -> None:
    (tmp_path / "strongroom.toml").write_text(toml)
    with pytest.raises(SettingsError, match=message):
        Settings.load({"home": str(tmp_path)}, environ={})


def test_secrets_are_not_in_repr(tmp_path: Path) -> None:
    s = Settings.load({"home": str(tmp_path)}, environ={"STRONGROOM_PASSPHRASE": "hunter2 hunter2"})
    assert "hunter2" not in repr(s) and s.passphrase == "hunter2 hunter2"


def test_passphrase_sources(tmp_path: Path) -> None:
    f = tmp_path / "pp"
    f.write_text("from the file\nignored second line\n")
    env = {"STRONGROOM_HOME": str(tmp_path)}
    assert passphrase_from(Settings.load(environ={**env, "STRONGROOM_PASSPHRASE": "from env"})) == "from env"
    assert passphrase_from(Settings.load(environ={**env, "STRONGROOM_PASSPHRASE_FILE": str(f)})) == "from the file"
    with pytest.raises(VaultError, match="No passphrase"):
        passphrase_from(Settings.load(environ=env), prompt=False)
    with pytest.raises(VaultError, match="cannot be read"):
        passphrase_from(Settings.load(environ={**env, "STRONGROOM_PASSPHRASE_FILE": str(tmp_path / "no")}))


def test_secret_key_file(tmp_path: Path) -> None:
    s = Settings.load({"home": str(tmp_path)}, environ={})
    with pytest.raises(VaultError, match="missing"):
        read_secret_key(s)
    path = write_secret_key(s)
    assert path.stat().st_mode & 0o777 == 0o600 and len(read_secret_key(s)) == 32
    first = read_secret_key(s)
    write_secret_key(s)
    assert read_secret_key(s) == first
