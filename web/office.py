"""The composition root: one Office per open home, built once from the Settings.

It is the only place that opens a home, loads the classification plan, builds the ports, starts
the sandboxed extractor and opens the search index. The CLI, the Flask app, the drop-folder
watcher and the benchmarks take their objects from an Office and nowhere else; the use cases
themselves live in `records/` and receive what they need from it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType

from indexer.errors import IndexCorrupt, IndexerError
from indexer.extract.capture import SandboxedCapturer
from indexer.extract.pack_sandbox import SandboxedPackMaker
from indexer.extract.sandbox import SandboxedExtractor
from indexer.extract.trust import FOLDER as TRUSTED_FOLDER
from indexer.extract.trust import trusted_certificates
from indexer.pool import PooledIndex, SearchPool
from indexer.search import WhooshIndex, create_index, rebuild, shared_index
from records import capture, disposition, filing, planstore, safeguards, verification
from records import search as searching
from records.access import AccessScope
from records.filing import FilingOutcome, FilingRequest, Source
from records.model import RecordId
from records.plan import Plan, default_plan_text, load_default, parse_plan
from records.ports import (Capturer, Extractor, IndexDoc, Ports, SealBatch, SearchIndex, SearchRequest,
                           SearchResult)
from records.checkpoints import SignatureCheck
from records.errors import PlanError
from records.safeguards import Safeguards
from records.verification import VerifyReport
from vault import (BucketObjects, Home, KdfParams, MoveResult, ObjectsAt, S3ObjectStore, TargetOptions, TargetStatus,
                   VaultError, backup_status, init_home, move_objects, open_home)
from vault.inbox import Intake, Watcher, WatchOptions, create_drop_folders
from web.capturing import CaptureThread
from web.settings import Settings, write_setting
from web.unlock import passphrase_from, write_secret_key

INBOX_ACTOR = "system:inbox"
STORAGE_RETRY_SECONDS = 30.0  # while the bucket of objects is away, the watcher tries again this often
CAPTURE_STOP_SECONDS = 180.0  # the longest one page may take (tesseract's own limit, plus drawing)
Clock = Callable[[], datetime]
Progress = Callable[[int, int], None]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Office:
    """An open home with its plan, ports, extractor and index, and the use cases bound to them."""

    def __init__(self, home: Home, settings: Settings, *, plan: Plan | None = None,
                 extractor: Extractor | None = None, capturer: Capturer | None = None,
                 pack_maker: SandboxedPackMaker | None = None, clock: Clock = utcnow) -> None:
        self.home = home
        self.settings = settings
        self._plan_override = plan  # tests and benchmarks only; otherwise the stored plan in force
        self._plan_cache: tuple[tuple[int, str], Plan] | None = None
        self.extractor = extractor if extractor is not None else shared_extractor(settings)
        self.capturer = capturer if capturer is not None else shared_capturer(settings)
        self.pack_maker = pack_maker if pack_maker is not None else shared_pack_maker(settings)
        self.clock = clock
        self._last_activity = time.monotonic()  # filing or a web request: the nightly backup waits for quiet
        self._capture: CaptureThread | None = None
        self._watcher: Watcher | None = None
        self._ports: Ports | None = None
        self._ports_lock = threading.Lock()
        self._pool: SearchPool | None = None
        self._pooled: Ports | None = None
        self._pool_lock = threading.Lock()
        # A home without a stored plan (new, or older than the sealed plan) takes its plan.toml once.
        migrate_plan(home, settings, now=clock())
        # A home without sealed safeguards (new, or older than them) takes its settings' values once.
        offered: dict[str, object] = {s.name: getattr(settings, s.name) for s in safeguards.SAFEGUARDS}
        if safeguards.stored(home.catalog, safeguards.BY_NAME["financial_year_end"]) is None:
            legacy = legacy_year_end(settings)  # an old plan.toml's fiscal_year_end, unless the settings set one
            if legacy and "financial_year_end" not in settings.file_values():
                offered["financial_year_end"] = legacy
        safeguards.seed(home.catalog, home.signer, offered, actor="system:settings", now=clock(),
                        source=f"{settings.settings_file.name} or STRONGROOM_*")

    @classmethod
    def open(cls, settings: Settings, *, actor: str = "system:cli", channel: str = "cli", prompt: bool = True,
             passphrase: str | None = None, recovery_key: str | None = None,
             extractor: Extractor | None = None, restored: bool = False, accept_rollback: bool = False,
             take_over_objects: bool = False) -> Office:
        """Unlock the settings' home with `passphrase` or `recovery_key`, else the settings' passphrase
        (or a prompt); the unlock is an audit entry by `actor`. `restored` (a home `restore` just
        wrote) starts a new rollback anchor; `accept_rollback` opens an older catalogue on purpose
        (audited); `take_over_objects` makes this home the holder of the objects bucket (a restore
        replacing a lost computer)."""
        if passphrase is None and recovery_key is None:
            passphrase = passphrase_from(settings, prompt)
        home = open_home(settings.home, passphrase, recovery_key=recovery_key, actor=actor, channel=channel,
                         restored=restored, accept_rollback=accept_rollback,
                         objects=objects_at(settings, take_over=take_over_objects))
        try:
            return cls(home, settings, extractor=extractor)
        except BaseException:
            home.close()
            raise

    def close(self) -> None:
        if self._capture is not None:
            self._capture.stop(timeout=CAPTURE_STOP_SECONDS)  # ends after the page in hand
        with self._pool_lock:
            if self._pool is not None:
                self._pool.close()
            self._pool, self._pooled = None, None
        self.home.close()

    def __enter__(self) -> Office:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    @property
    def path(self) -> Path:
        return self.home.path

    def now(self) -> datetime:
        return self.clock()

    @property
    def plan(self) -> Plan:
        """The plan in force: the catalogue's newest stored version with the sealed financial year end
        (read on each use, so a change made by another process applies at once)."""
        if self._plan_override is not None:
            return self._plan_override
        catalog = self.home.catalog
        key = (planstore.version_in_force(catalog), safeguards.current(catalog).financial_year_end)
        if self._plan_cache is None or self._plan_cache[0] != key:
            version = planstore.current(catalog)
            if version is None:
                raise PlanError("The home has no stored classification plan: open it again to migrate it.")
            self._plan_cache = (key, version.plan(safeguards.current(catalog).fiscal_year_end))
        return self._plan_cache[1]

    def plan_changed(self) -> None:
        """After a plan import: new drop folders for new classes and, where the home keeps its plan.toml,
        that copy refreshed so it shows the plan in force."""
        create_drop_folders(self.path, self.plan)
        version = planstore.current(self.home.catalog)
        if version is not None and self.settings.plan_path is None:
            write_plan_copy(self.settings.plan_file, version.text)

    @property
    def safeguards(self) -> Safeguards:
        """The sealed security settings in force (never strongroom.toml's: see records.safeguards)."""
        return safeguards.current(self.home.catalog)

    @property
    def ports(self) -> Ports:
        """The use cases' adapters, built on first use: commands that only manage keys never open the
        search index (nor pay for the reconcile a crashed session asks for)."""
        with self._ports_lock:
            if self._ports is None:
                self._ports = self._build_ports()
            return self._ports

    def _build_ports(self) -> Ports:
        ports = Ports(blobs=self.home.blobs, catalog=self.home.catalog, signer=self.home.signer,
                      extractor=self.extractor, index=self._index(), audit_hmac=self.home.audit_hmac,
                      capturer=self.capturer)
        if ports.index is not None and self.home.index_check_pending():
            # A session died mid-write: its records may be unindexed, or disposed but still listed.
            try:
                searching.reconcile(ports)
            except (IndexerError, VaultError, OSError):
                return ports  # still pending: the next open tries again; `reindex` also repairs
            self.home.index_checked()
        return ports

    def _index(self) -> SearchIndex | None:
        """The home's sealed index (one per process and folder); None when it is damaged: filing goes
        on (the index is derived) and `strongroom reindex` repairs it."""
        try:
            return shared_index(self.path / "index", self.home.index_key)
        except IndexCorrupt:
            return None

    # ---- filing ------------------------------------------------------------------------------

    def file(self, source: Source, request: FilingRequest, *, ports: Ports | None = None) -> FilingOutcome:
        """The filing use case with this home's plan, jurisdiction and size limit."""
        self.touch()
        outcome = filing.file_document(ports or self.ports, self.plan, source, request,
                                       jurisdiction=self.settings.jurisdiction, now=self.now(),
                                       max_bytes=self.settings.max_upload_mb * 1024 * 1024)
        if self._capture is not None:
            self._capture.wake()  # a scan may have been queued
        return outcome

    def prepare(self, source: Source, request: FilingRequest, batch: SealBatch, *,
                plan: Plan | None = None) -> filing.Prepared:
        """The first half of filing for a group commit (bulk import): read, extract, seal into `batch`.
        `plan`: the one a bulk import resolved when it began (the plan in force is six settings read
        from the catalogue, per file otherwise)."""
        self.touch()
        return filing.prepare(self.ports, plan or self.plan, source, request, batch=batch,
                              jurisdiction=self.settings.jurisdiction, now=self.now(),
                              max_bytes=self.settings.max_upload_mb * 1024 * 1024)

    def commit(self, batch: SealBatch, items: Sequence[filing.Prepared], *,
               ports: Ports | None = None) -> list[FilingOutcome]:
        """The second half: one group commit of prepared documents (records.filing.commit)."""
        outcomes = filing.commit(ports or self.ports, batch, items)
        if self._capture is not None:
            self._capture.wake()
        return outcomes

    def touch(self) -> None:
        """Someone is working (a filing, a web request): the nightly backup waits for a quiet spell."""
        self._last_activity = time.monotonic()

    def idle_seconds(self) -> float:
        """Seconds since the last filing or web request in this process."""
        return time.monotonic() - self._last_activity

    def already_filed(self, source: Source) -> RecordId | None:
        return filing.already_filed(self.ports, source, self.settings.max_upload_mb * 1024 * 1024)

    def intake(self, *, actor: str = INBOX_ACTOR) -> Intake:
        """The drop folders, filing through `file` (the watcher and the web's unsorted queue)."""
        return Intake(self.path, self.plan, self.file, committed=lambda p: self.already_filed(p) is not None,
                      actor=actor)

    def start_watcher(self, *, polling: bool = False,
                      on_result: Callable[[FilingOutcome], None] | None = None) -> Watcher:
        """File from the drop folders in a background thread until .stop(). Raises WatcherBusy when
        another watcher holds the home's inbox lock."""
        options = WatchOptions(stability_seconds=self.settings.stability_seconds,
                               network_stability_seconds=self.settings.network_stability_seconds,
                               rescan_seconds=self.settings.rescan_seconds, polling=polling,
                               storage_retry_seconds=min(STORAGE_RETRY_SECONDS, self.settings.rescan_seconds))
        self._watcher = Watcher(self.intake(), options, on_result).start()
        return self._watcher

    def filing_paused(self) -> str | None:
        """Why this process's drop-folder watcher waits (the bucket of objects is away), else None."""
        watcher = self._watcher
        return watcher.paused if watcher is not None and watcher.running else None

    # ---- capture: previews and OCR after filing ----------------------------------------------

    @property
    def ocr_languages(self) -> str:
        return capture.languages_for(self.settings.jurisdiction)

    def start_capture(self, on_error: Callable[[BaseException], None] | None = None) -> CaptureThread:
        """Capture queued scans and PDFs in a background thread (serve, watch) until close()."""
        if self._capture is None or not self._capture.running:
            self._capture = CaptureThread(lambda: self.ports, languages=self.ocr_languages, now=self.now,
                                          on_error=on_error).start()
        return self._capture

    def run_capture(self, progress: capture.Progress | None = None) -> int:
        """Work through the capture queue once, in this thread (`strongroom ocr run`)."""
        return capture.run_all(self.ports, languages=self.ocr_languages, now=self.now, progress=progress)

    def backup_status(self) -> list[TargetStatus]:
        """Each backup target's last success and failure: the configured ones, then any other that ran."""
        return backup_status(self.home, self.settings.backup_targets)

    def adopt_objects(self) -> int:
        """After a restore that takes the objects bucket over: move the objects the restore wrote into
        objects/ into the bucket (those it lacks are uploaded). Returns how many were uploaded."""
        blobs = self.home.blobs
        return blobs.adopt(self.path / "objects") if isinstance(blobs, S3ObjectStore) else 0

    def move_objects(self, target: str, *, actor: str, progress: Progress | None = None) -> MoveResult:
        """Move the sealed objects from objects/ into the bucket `target` (s3:http://HOST:PORT/BUCKET/PREFIX):
        resumable; every object verified in the bucket before strongroom.toml's `objects` names it
        (audited, `vault.objects.move`); then the local copies go."""
        replace(self.settings, objects=target).check()
        if target in ("", "local"):
            raise VaultError("Name the bucket to move the objects into: s3:http://HOST:PORT/BUCKET/PREFIX.")
        where = BucketObjects(target, target_options(self.settings), cache_folder=self.settings.object_cache,
                              cache_bytes=self.settings.object_cache_mb * 1024 * 1024)
        return move_objects(self.home, where, actor=actor, now=self.now(), progress=progress,
                            switch=lambda: write_setting(self.settings.settings_file, "objects", target))

    # ---- verification ------------------------------------------------------------------------

    def verify(self, *, signature_valid: SignatureCheck | None, scope: AccessScope | None = None,
               channel: str = "cli") -> VerifyReport:
        """The verify use case with this home's checks: sealed objects and the catalogue (the vault's),
        the audit chain and its signatures, the stored plan versions against their audit entries, and the
        plaintext files an attacker could edit without the passphrase (a sealed safeguard strongroom.toml
        contradicts). Notes, not damage: a plan.toml unlike the plan in force, and records the plan would
        keep for less than their stored schedule (which applies)."""
        def storage() -> VerifyReport:
            found = self.home.storage_report()
            files = (*safeguards.disagreements(self.home.catalog, self.settings.file_values()),
                     *planstore.check(self.home.catalog))
            return VerifyReport(problems=(*found.problems, *files), damaged=found.damaged, notes=self._plan_notes())
        return verification.verify(self.ports, scope or AccessScope.system("system:cli"), storage=storage,
                                   signature_valid=signature_valid, now=self.now(), channel=channel)

    def _plan_notes(self) -> tuple[str, ...]:
        """What verify says of the plan without calling it damage: records a (justified, audited) plan change
        would have shortened, which keep their stored keep-until, and a plan.toml unlike the plan in force."""
        try:
            kept = disposition.plan_conflicts(self.ports, self.plan, jurisdiction=self.settings.jurisdiction,
                                              as_of=self.now().date())
        except PlanError:
            kept = []  # a stored plan that does not parse: planstore.check reports it against the audit trail
        version = planstore.current(self.home.catalog)
        note = "" if version is None else planstore.file_note(version, _read_text(self.settings.plan_file),
                                                              self.settings.plan_file.name)
        return (*kept, *([note] if note else []))

    # ---- search --------------------------------------------------------------------------------

    def search(self, request: SearchRequest, scope: AccessScope, *, channel: str = "cli") -> SearchResult:
        return searching.search_records(self.ports, request, scope, now=self.now(), channel=channel, plan=self.plan)

    def search_ports(self) -> Ports:
        """The ports a long-running shell (the web) searches through: the same, except that searches
        run in parallel in worker processes (indexer.pool), started on the first call (`serve` makes
        it at start); searches wait while they warm up. A one-off command searches through `ports`."""
        ports = self.ports
        with self._pool_lock:
            if self._pooled is None and isinstance(ports.index, WhooshIndex):
                self._pool = SearchPool(ports.index.root, self.home.index_key)
                self._pooled = replace(ports, index=PooledIndex(ports.index, self._pool))
            return self._pooled if self._pooled is not None else ports

    def reindex(self, *, actor: str, progress: Progress | None = None) -> int:
        """Rebuild the index from the sealed text renditions (the old one serves until the swap)."""
        key = self.home.index_key

        def build(docs: Iterator[IndexDoc], total: int) -> int:
            return rebuild(self.path / "index", key, docs, progress, total=total)
        return searching.reindex(self.ports, build, actor=actor, now=self.now())


# ---- the pieces an Office is built from ------------------------------------------------------


def target_options(settings: Settings) -> TargetOptions:
    """How S3 and SFTP are reached (backup targets, a bucket of objects), from the settings."""
    return TargetOptions(s3_region=settings.s3_region, s3_access_key_id=settings.s3_access_key_id,
                         s3_secret_access_key=settings.s3_secret_access_key,
                         sftp_known_hosts=settings.sftp_known_hosts, sftp_key_file=settings.sftp_key_file,
                         sftp_use_agent=settings.sftp_use_agent)


def objects_at(settings: Settings, *, take_over: bool = False) -> ObjectsAt | None:
    """Where the home's sealed objects live: None for <home>/objects/, else the bucket the setting
    `objects` names, with its local read cache (sealed bytes only, at most object_cache_mb)."""
    if settings.objects in ("", "local"):
        return None
    return BucketObjects(settings.objects, target_options(settings), cache_folder=settings.object_cache,
                         cache_bytes=settings.object_cache_mb * 1024 * 1024, take_over=take_over)


def plan_of(settings: Settings) -> Plan:
    """The plan a home without a stored plan starts from: its plan.toml (STRONGROOM_PLAN), else the
    default plan. Once a home is open its plan in force is `Office.plan`, the catalogue's."""
    text = _read_text(settings.plan_file)
    if text is None:
        return load_default()
    return parse_plan(planstore.split_fiscal_year_end(text)[0], source=str(settings.plan_file))


def migrate_plan(home: Home, settings: Settings, *, now: datetime) -> bool:
    """Store the home's plan.toml (or the default plan) as plan version 1 when the catalogue holds none
    (its fiscal_year_end line left out: that is the sealed setting now); True when it did."""
    if planstore.version_in_force(home.catalog):
        return False
    text = _read_text(settings.plan_file)
    source = settings.plan_file.name if text is not None else "the default plan"
    text = planstore.split_fiscal_year_end(default_plan_text() if text is None else text)[0]
    return planstore.migrate(home.catalog, home.signer, text, source=source, actor="system:plan", now=now) is not None


def legacy_year_end(settings: Settings) -> str | None:
    """The financial year end an old plan.toml set (`fiscal_year_end`), if it set one."""
    text = _read_text(settings.plan_file)
    return None if text is None else planstore.split_fiscal_year_end(text)[1]


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(f"The classification plan {path} cannot be read ({exc}).") from None


def write_plan_copy(path: Path, text: str) -> None:
    """Write the plan text to `path` by temp file and rename (a reader never sees half a plan)."""
    part = path.with_name(path.name + ".part")
    part.write_text(text, encoding="utf-8")
    part.replace(path)


_extractor_lock = threading.Lock()
_extractor: SandboxedExtractor | None = None


def shared_extractor(settings: Settings | None = None) -> SandboxedExtractor:
    """The process's one sandboxed extraction pool (reused workers, ended at exit by its finalizer).
    The first call's settings fix the per-document timeout, the workers' memory limit and the trusted
    certificates (read once from <home>/trusted-certificates/)."""
    global _extractor
    with _extractor_lock:
        if _extractor is None:
            chosen = settings or Settings()
            _extractor = SandboxedExtractor(workers=2, timeout_s=chosen.extract_timeout_seconds,
                                            memory_mb=chosen.extract_memory_mb,
                                            max_input_mb=chosen.max_upload_mb,
                                            trusted=trusted_certificates(chosen.home / TRUSTED_FOLDER))
        return _extractor


_capturer_lock = threading.Lock()
_capturer: SandboxedCapturer | None = None


def shared_capturer(settings: Settings | None = None) -> SandboxedCapturer:
    """The process's one capture sandbox (previews and OCR); the first call's settings fix the per-page
    processor budget and how many documents are captured at once (one by default)."""
    global _capturer
    with _capturer_lock:
        if _capturer is None:
            chosen = settings or Settings()
            _capturer = SandboxedCapturer(page_cpu_s=chosen.ocr_page_seconds, jobs=chosen.capture_jobs,
                                          max_input_mb=chosen.max_upload_mb)
        return _capturer


_pack_maker_lock = threading.Lock()
_pack_maker: SandboxedPackMaker | None = None


def shared_pack_maker(settings: Settings | None = None) -> SandboxedPackMaker:
    """The process's meeting-pack sandbox: one worker per pack, two packs at once, with the extraction
    worker's time and memory limits (the first call's settings fix them)."""
    global _pack_maker
    with _pack_maker_lock:
        if _pack_maker is None:
            chosen = settings or Settings()
            _pack_maker = SandboxedPackMaker(timeout_s=chosen.extract_timeout_seconds,
                                             memory_mb=chosen.extract_memory_mb, max_input_mb=chosen.max_upload_mb)
        return _pack_maker


def furnish(home: Home, settings: Settings) -> list[str]:
    """What a working home has besides keys and catalogue: the plan (stored as version 1, with a
    plain plan.toml copy), one drop folder per class, an empty search index and the web's secret key. Each step does nothing when its work is
    there, so `init` and `restore` (a backup leaves these out) both run it. Returns what was made."""
    made: list[str] = []
    if not settings.plan_file.exists():
        settings.plan_file.write_text(default_plan_text(), encoding="utf-8")
        made.append("plan")
    migrate_plan(home, settings, now=utcnow())  # the plan in force, stored as version 1 (a no-op once stored)
    stored = planstore.current(home.catalog)
    if create_drop_folders(home.path, stored.plan() if stored else plan_of(settings)):
        made.append("drop folders")
    if not (home.path / "index" / "current").is_symlink():
        create_index(home.path / "index", home.index_key)
        made.append("search index")
    if not settings.secret_key_path.exists():
        write_secret_key(settings)
        made.append("web secret key")
    return made


def create_home(settings: Settings, passphrase: str, *, kdf: KdfParams | None = None,
                extractor: Extractor | None = None) -> tuple[Office, str]:
    """A new home at settings.home, furnished and open; returns it with its recovery key (shown once).
    `kdf` only for tests and benchmarks (the default is the memory-hard production setting)."""
    result = init_home(settings.home, passphrase, kdf=kdf)
    settings.settings_file.write_text(settings.toml_text(), encoding="utf-8")
    home = open_home(settings.home, passphrase, actor="system:cli", objects=objects_at(settings))
    try:
        furnish(home, settings)
        return Office(home, settings, extractor=extractor), result.recovery_key
    except BaseException:
        home.close()
        raise


__all__ = ["Office", "INBOX_ACTOR", "target_options", "objects_at", "plan_of", "migrate_plan", "write_plan_copy", "shared_extractor",
           "shared_capturer", "shared_pack_maker", "furnish", "create_home", "utcnow"]
