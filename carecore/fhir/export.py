"""Bulk Data export (`Group/{agency}/$export`): a lease-claimed background job writes one NDJSON file per
resource type into GridFS, as seen by the coordinator who asked.

Order of writes, each safe to resume:
1. kick-off: the audit entry (write-ahead), then the job, RUNNING and due at once;
2. a worker claims the job with a lease (`fhir-exports` in carecore.background.JOBS);
3. per type: each file's id is recorded on the job (`begin_file`) before its first chunk, the resources
   stream out, the lease is renewed every RENEW_EVERY resources, a file closes at PART_BYTES and the next
   begins, and once the type is written the job lists all its files in one update;
4. the job is DONE, expiring a day later.
An instance that dies anywhere leaves the job RUNNING with a lapsing lease: the next claim deletes the
half-written file it recorded and writes that type again, so nothing is lost and nothing doubled.
Files are deleted by the `fhir-exports-clean-up` job once expired or cancelled (no TTL index fires on
the test server, and none may be relied on in production).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from carecore.access.principal import Principal
from carecore.audit.service import audited, record
from carecore.errors import DomainError, NotFound, ValidationFailed
from carecore.fhir.mapping import ndjson_line
from carecore.fhir.models import ExportFile, ExportJob, ExportStatus
from carecore.fhir.resources import EXPORT_TYPES, AgencyResources, check_exporter
from carecore.ids import is_valid_id, new_id
from carecore.ports import Ports
from carecore.users.service import principal_for

EXPORT_LEASE = timedelta(minutes=2)
RENEW_EVERY = 200  # resources between lease renewals (and checks for a cancellation)
PART_BYTES = 4 * 1024 * 1024  # at most this much NDJSON a file: a type larger than that has several
KEEP_FOR = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Progress:
    done: int
    total: int
    current: str | None

    def header(self) -> str:
        """X-Progress: how many of the files are written, and which one is being written."""
        writing = f", writing {self.current}" if self.current else ""
        return f"{self.done}/{self.total} files{writing}"


def checked_types(raw: str | None) -> tuple[str, ...]:
    if not raw:
        return EXPORT_TYPES
    asked = [t.strip() for t in raw.split(",") if t.strip()]
    unknown = [t for t in asked if t not in EXPORT_TYPES]
    if unknown:
        raise ValidationFailed(f"_type: not exported: {', '.join(unknown)}.", field="_type")
    return tuple(t for t in EXPORT_TYPES if t in asked)


def checked_since(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        since = datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed("_since must be a FHIR instant (with its time zone).", field="_since") from None
    if since.tzinfo is None:
        raise ValidationFailed("_since must carry its time zone.", field="_since")
    return since


async def start_export(
    ports: Ports, actor: Principal, agency_id: str, *, types: tuple[str, ...], since: datetime | None, request_url: str
) -> ExportJob:
    """Queues an export of the agency for a coordinator of it; audited write-ahead like every change."""
    check_exporter(actor, agency_id)
    now = ports.clock.now()
    job = ExportJob(
        id=new_id(),
        agency_id=agency_id,
        requested_by=actor.user_id,
        types=types,
        since=since,
        request_url=request_url,
        status=ExportStatus.RUNNING,
        requested_at=now,
    )
    async with audited(ports, actor, "fhir.export", "FhirExport", [job.id]):
        await ports.store.fhir_exports.insert(job, due_at=now)
    return job


async def get_export(ports: Ports, actor: Principal, export_id: str) -> ExportJob:
    """The requester's export while it exists; anyone else's, or an expired one, is NotFound."""
    job = await ports.store.fhir_exports.get(export_id) if is_valid_id(export_id) else None
    now = ports.clock.now()
    if (
        job is None
        or job.requested_by != actor.user_id
        or job.agency_id != actor.agency_id
        or job.status is ExportStatus.CANCELLED
        or (job.expires_at is not None and job.expires_at <= now)
    ):
        raise NotFound("FhirExport", export_id)
    return job


def progress(job: ExportJob) -> Progress:
    return Progress(len(job.files), len(job.types), job.current_type)


async def cancel_export(ports: Ports, actor: Principal, export_id: str) -> None:
    """DELETE on the status URL: the job stops at its next renewal and its files go with a later clean-up.

    The clean-up waits a lease, so a worker still writing has stopped before its file is deleted.
    """
    job = await get_export(ports, actor, export_id)
    async with audited(ports, actor, "fhir.export.cancel", "FhirExport", [job.id]):
        await ports.store.fhir_exports.cancel(job.id, at=ports.clock.now() + EXPORT_LEASE)


async def open_export_file(ports: Ports, actor: Principal, export_id: str, file_id: str) -> AsyncIterator[bytes]:
    """A finished file of the requester's export, a chunk at a time; each download is audited."""
    job = await get_export(ports, actor, export_id)
    file = next((f for f in job.files if f.file_id == file_id), None)
    if job.status is not ExportStatus.DONE or file is None:
        raise NotFound("FhirExportFile", f"{export_id}/{file_id}")
    await record(ports, actor, "fhir.export.download", "FhirExport", [job.id])
    return ports.store.fhir_exports.read_file(file.file_id)


class _ClaimLost(Exception):
    """Another instance took the job over, or the requester cancelled it: write nothing more."""


async def _write_part(
    ports: Ports, job: ExportJob, resource_type: str, owner: str, resources: AsyncIterator[bytes], first: bytes | None
) -> tuple[ExportFile, bytes | None]:
    """One file of up to PART_BYTES; returns it and the line that did not fit (None: the type is done).

    Parts bound memory: PyMongo's GridFS upload keeps every chunk until the file closes or ~48 MB
    have gathered, so a type of hundreds of megabytes is written as several files of the manifest.
    """
    store = ports.store.fhir_exports
    file_id = new_id()
    if not await store.begin_file(job.id, owner=owner, resource_type=resource_type, file_id=file_id):
        raise _ClaimLost
    metadata = {"export_id": job.id, "agency_id": job.agency_id, "type": resource_type}
    writer = store.open_file(file_id, f"{job.id}/{resource_type}.ndjson", metadata)
    count = size = 0
    pending = first
    try:
        while True:
            line = pending if pending is not None else await anext(resources, None)
            pending = None
            if line is None:
                break
            if count and size + len(line) > PART_BYTES:
                pending = line
                break
            await writer.write(line)
            count += 1
            size += len(line)
            if count % RENEW_EVERY == 0 and not await store.renew(
                job.id, owner=owner, until=ports.clock.now() + EXPORT_LEASE
            ):
                raise _ClaimLost
    except _ClaimLost:
        await writer.abort()  # whoever holds the job now writes this type again, under its own file ids
        raise
    await writer.close()
    return ExportFile(resource_type, file_id, count), pending


async def _write_type(ports: Ports, job: ExportJob, exporter: Principal, resource_type: str, owner: str) -> None:
    async def lines() -> AsyncGenerator[bytes, None]:
        async for resource in AgencyResources(ports, exporter, job.since).of_type(resource_type):
            yield ndjson_line(resource)

    stream = lines()
    parts: list[ExportFile] = []
    pending: bytes | None = None
    try:
        while True:
            part, pending = await _write_part(ports, job, resource_type, owner, stream, pending)
            parts.append(part)
            if pending is None:
                break
    finally:
        await stream.aclose()  # closes the database cursor at once, also when the claim was lost
    if not await ports.store.fhir_exports.add_files(job.id, owner=owner, files=parts):
        raise _ClaimLost


async def _exporter(ports: Ports, job: ExportJob) -> Principal | None:
    """The requester as they are now: a coordinator demoted since asking gets nothing exported."""
    user = await ports.store.users.get(job.requested_by)
    if user is None or not user.active:
        return None
    principal = await principal_for(ports, user)
    try:
        check_exporter(principal, job.agency_id)
    except DomainError:
        return None
    return principal


async def run_exports(ports: Ports, owner: str) -> int:
    """Background job: claims one export at a time and writes what its files still lack."""
    done = 0
    store = ports.store.fhir_exports
    while (job := await store.claim(now=ports.clock.now(), owner=owner, lease=EXPORT_LEASE)) is not None:
        done += 1
        if job.current_file_ids:  # a dead instance's type, half written: all of its parts go
            for file_id in job.current_file_ids:
                await store.delete_file(file_id)
            if not await store.abandon_files(job.id, owner=owner):
                continue
        exporter = await _exporter(ports, job)
        if exporter is None:
            await store.cancel(job.id, at=ports.clock.now() + EXPORT_LEASE)
            continue
        try:
            for resource_type in job.pending_types:
                await _write_type(ports, job, exporter, resource_type, owner)
        except _ClaimLost:
            continue
        now = ports.clock.now()
        await store.finish(job.id, owner=owner, at=now, expires_at=now + KEEP_FOR)
    return done


async def clean_up_exports(ports: Ports, owner: str) -> int:
    """Background job: deletes the files of expired and cancelled exports, then the jobs themselves.

    Files first, the job last: a clean-up that dies midway finds the job again and deletes what is left.
    """
    store = ports.store.fhir_exports
    expired = await store.expired(ports.clock.now())
    for job in expired:
        for file_id in [f.file_id for f in job.files] + list(job.current_file_ids):
            await store.delete_file(file_id)
        await store.delete(job.id)
    return len(expired)
