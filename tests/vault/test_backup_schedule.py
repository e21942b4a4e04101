"""Backups on a schedule: the scheduler (on an injected clock), each target's status and audit entry,
and the one maintenance lock that keeps a backup and a disposition apart."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

import pytest

from records.filing import FilingRequest
from records.model import RecordId
from tests.conftest import PASSPHRASE
from tests.records.test_cli import cli_home, run  # noqa: F401  (the fixture: a home with the default plan)
from tests.vault.test_backup import _file
from vault import BackupScheduler, MaintenanceBusy, maintenance_lock, open_home, parse_clock
from vault.backupschedule import next_run
from web.settings import Settings, SettingsError

CET = timezone(timedelta(hours=1))


class FakeClock:
    """A clock whose waits pass instantly, moving time forward; stops the loop after `until`."""

    def __init__(self, start: datetime, until: datetime) -> None:
        self.now, self.until, self.waits = start, until, 0

    def wait(self, seconds: float) -> bool:
        self.waits += 1
        self.now += timedelta(seconds=seconds)
        return self.now >= self.until  # True: asked to stop


def test_the_scheduler_runs_once_a_night_at_the_set_time() -> None:
    clock = FakeClock(datetime(2026, 3, 2, 14, 0, tzinfo=CET), until=datetime(2026, 3, 5, 12, 0, tzinfo=CET))
    runs: list[datetime] = []
    BackupScheduler(parse_clock("02:30"), lambda: runs.append(clock.now), now=lambda: clock.now,
                    wait=clock.wait).run()
    assert runs == [datetime(2026, 3, d, 2, 30, tzinfo=CET) for d in (3, 4, 5)]


def test_a_missed_night_runs_once_on_waking_not_once_per_night() -> None:
    clock = FakeClock(datetime(2026, 3, 2, 14, 0, tzinfo=CET), until=datetime(2026, 3, 7, 3, 0, tzinfo=CET))
    runs: list[datetime] = []
    nap = clock.wait

    def wait(seconds: float) -> bool:
        if len(runs) == 1 and clock.now < datetime(2026, 3, 6, tzinfo=CET):
            clock.now += timedelta(days=3, hours=5)  # suspended after the first run, woken on the 6th at 07:30
            return False
        return nap(seconds)

    BackupScheduler(time(2, 30), lambda: runs.append(clock.now), now=lambda: clock.now, wait=wait).run()
    assert runs == [datetime(2026, 3, 3, 2, 30, tzinfo=CET), datetime(2026, 3, 6, 7, 30, tzinfo=CET),
                    datetime(2026, 3, 7, 2, 30, tzinfo=CET)]
    assert next_run(datetime(2026, 3, 3, 2, 30, tzinfo=CET), time(2, 30)) == datetime(2026, 3, 4, 2, 30, tzinfo=CET)


def test_backup_settings_take_a_list_a_time_and_restic_s_variables(tmp_path: Path) -> None:
    (tmp_path / "strongroom.toml").write_text('backup_targets = ["/media/usb", "s3:http://nas:8333/b/p"]\n'
                                              'backup_at = "02:30"\n')
    env = {"AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "s3cr3t-value", "AWS_DEFAULT_REGION": "eu-central-1"}
    settings = Settings.load({"home": str(tmp_path)}, environ=env)
    assert settings.backup_targets == ("/media/usb", "s3:http://nas:8333/b/p") and settings.backup_at == "02:30"
    assert (settings.s3_access_key_id, settings.s3_secret_access_key, settings.s3_region) == (
        "id", "s3cr3t-value", "eu-central-1")
    assert "s3cr3t-value" not in repr(settings)
    ours = Settings.load({"home": str(tmp_path)}, environ={**env, "STRONGROOM_S3_SECRET_ACCESS_KEY": "ours"})
    assert ours.s3_secret_access_key == "ours"  # STRONGROOM_* wins over AWS_*
    with pytest.raises(SettingsError, match="HH:MM"):
        Settings.load({"home": str(tmp_path), "backup_at": "2:30am"}, environ={})
    (tmp_path / "strongroom.toml").write_text('s3_secret_access_key = "x"\n')
    with pytest.raises(SettingsError, match="must not hold"):
        Settings.load({"home": str(tmp_path)}, environ={})


def test_backup_status_shows_success_and_failure_and_each_is_audited(
        cli_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    _file(tmp_path, capsys, "letter.txt", "A letter.\n", "--class", "correspondence")
    good, bad = tmp_path / "usb", tmp_path / "not-a-backup"
    bad.mkdir()
    (bad / "holiday.jpg").write_bytes(b"jpg")
    (cli_home / "strongroom.toml").write_text(f'backup_targets = ["{good}", "{bad}"]\n')
    code, out, err = run(["backup"], capsys)  # every configured target; the bad one fails, the good one runs
    assert code == 1 and f"Backed up to {good}" in out and "not a Strongroom backup" in err
    code, out, _ = run(["backup", "status", "--json"], capsys)
    status = {s["target"]: s for s in json.loads(out)}
    assert status[str(good)]["last_success"] and status[str(good)]["objects"] >= 2 and status[str(good)]["size"] > 0
    assert not status[str(good)]["failing"] and status[str(bad)]["failing"]
    assert status[str(bad)]["last_success"] is None and "holiday.jpg" in status[str(bad)]["failure"]
    code, out, _ = run(["backup", "status"], capsys)
    assert code == 0 and "last success  never" in out and "last failure" in out
    with open_home(cli_home, PASSPHRASE) as home:
        entries = [e.event for e in home.catalog.audit_entries() if e.event.action == "vault.backup"]
    assert sorted((e.outcome, dict(e.details)["target"]) for e in entries) == [
        ("failed", str(bad)), ("ok", str(good))]


def test_a_backup_and_a_disposition_never_run_at_once(
        cli_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    rid = _file(tmp_path, capsys, "old-letter.txt", "An old letter.\n", "--class", "correspondence",
                "--document-date", "2019-04-01")
    monkeypatch.setattr("vault.objects.DISPOSITION_WAIT_SECONDS", 0.3)
    assert run(["settings", "set", "require-second-approver", "off"], capsys)[0] == 0  # destroy, not propose
    with maintenance_lock(cli_home, holder="backup", wait_seconds=0):  # a backup is running
        code, _, err = run(["dispose", rid, "--reason", "Retention ended", "--as-of", "2026-01-01", "--yes"],
                           capsys)
    assert code == 1 and err.startswith("strongroom: A backup is running in this home, so the disposition did not "
                                        "start and nothing was changed"), err
    with open_home(cli_home, PASSPHRASE) as home:
        assert home.catalog.get(RecordId(rid)).state != "disposed"
        with maintenance_lock(cli_home, holder="disposition", wait_seconds=0):  # a disposition is running
            from vault import run_backup
            from vault.backuptarget import TargetOptions
            with pytest.raises(MaintenanceBusy, match="A disposition is running"):
                run_backup(home, tmp_path / "usb", TargetOptions(), actor="test", channel="cli",
                           now=lambda: datetime.now(timezone.utc), wait_seconds=0.3)
    assert not (tmp_path / "usb").exists()
    code, _, err = run(["dispose", rid, "--reason", "Retention ended", "--as-of", "2026-01-01", "--yes"],
                       capsys)  # free again
    assert code == 0, err


class Office_:
    """The office's activity as the scheduler sees it: seconds since the last filing or request."""

    def __init__(self, clock: FakeClock, busy_until: datetime) -> None:
        self.clock, self.busy_until = clock, busy_until

    def idle_for(self) -> float:
        last = min(self.clock.now, self.busy_until)  # someone works every moment until busy_until
        return (self.clock.now - last).total_seconds()


def test_a_due_backup_waits_for_a_quiet_spell() -> None:
    clock = FakeClock(datetime(2026, 3, 2, 14, 0, tzinfo=CET), until=datetime(2026, 3, 3, 12, 0, tzinfo=CET))
    office = Office_(clock, busy_until=datetime(2026, 3, 3, 2, 50, tzinfo=CET))  # a late night of filing
    runs: list[datetime] = []
    BackupScheduler(time(2, 30), lambda: runs.append(clock.now), now=lambda: clock.now, wait=clock.wait,
                    quiet_seconds=20 * 60, idle_for=office.idle_for).run()
    assert runs == [datetime(2026, 3, 3, 3, 10, tzinfo=CET)]  # 20 quiet minutes after the last activity


def test_a_busy_night_still_gets_its_backup_by_the_deadline() -> None:
    clock = FakeClock(datetime(2026, 3, 2, 14, 0, tzinfo=CET), until=datetime(2026, 3, 4, 12, 0, tzinfo=CET))
    office = Office_(clock, busy_until=datetime(2026, 3, 9, tzinfo=CET))  # never quiet
    runs: list[datetime] = []
    BackupScheduler(time(2, 30), lambda: runs.append(clock.now), now=lambda: clock.now, wait=clock.wait,
                    quiet_seconds=20 * 60, idle_for=office.idle_for).run()
    assert runs == [datetime(2026, 3, 3, 6, 30, tzinfo=CET), datetime(2026, 3, 4, 6, 30, tzinfo=CET)]


def test_the_quiet_period_is_a_bounded_setting(tmp_path: Path) -> None:
    assert Settings.load({"home": str(tmp_path)}, environ={}).backup_quiet_minutes == 20
    assert Settings.load({"home": str(tmp_path)}, environ={"STRONGROOM_BACKUP_QUIET_MINUTES": "45"}
                         ).backup_quiet_minutes == 45
    with pytest.raises(SettingsError, match="0 to 240"):
        Settings.load({"home": str(tmp_path), "backup_quiet_minutes": 600}, environ={})


def test_filing_is_activity_and_a_failed_scheduled_backup_is_an_audit_entry(
        cli_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    from web.cli.backup_cmds import scheduled_backups
    from web.office import Office
    bad = tmp_path / "a-file-not-a-folder"
    bad.write_bytes(b"x")
    (cli_home / "strongroom.toml").write_text(f'backup_targets = ["{bad}"]\nbackup_at = "02:30"\n')
    lines: list[str] = []
    with Office.open(Settings.load({"home": str(cli_home)})) as office:
        office._last_activity -= 3600  # an hour of quiet
        assert office.idle_seconds() >= 3600
        office.file(b"A letter.", FilingRequest(original_name="letter.txt", record_class="correspondence"))
        assert office.idle_seconds() < 600  # the filing was activity
        scheduled_backups(office, echo=lines.append)()
        entries = [e.event for e in office.home.catalog.audit_entries() if e.event.action == "vault.backup"]
        status = office.backup_status()
    assert len(lines) == 1 and lines[0].startswith(f"Scheduled backup to {bad} failed: ") and "is a file" in lines[0]
    assert [(e.outcome, e.channel, e.actor, dict(e.details)["target"]) for e in entries] == [
        ("failed", "schedule", "system:schedule", str(bad))]
    assert "is a file" in dict(entries[0].details)["reason"]
    assert [s.target for s in status] == [str(bad)] and status[0].failing and "is a file" in status[0].failure
