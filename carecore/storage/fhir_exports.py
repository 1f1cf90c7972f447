"""Bulk export jobs (`fhir_exports`) and their NDJSON files in GridFS (bucket `fhir_export_files`).

A job is claimed with a lease on `due_at` (carecore.storage.leases) and every change of a claimed job is
conditional on still holding the lease, so an instance that lost its claim writes nothing more.
GridFS was checked against mongo-java-server 1.47 (upload in chunks, download, delete of a file and of
the chunks of an upload that never closed): it stores files as two ordinary collections.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

from gridfs import AsyncGridFSBucket
from gridfs.asynchronous.grid_file import AsyncGridIn
from gridfs.errors import NoFile

from carecore.fhir.models import ExportFile, ExportJob, ExportStatus
from carecore.storage.codec import insert_new
from carecore.storage.database import Db, Document
from carecore.storage.leases import claim_due

BUCKET = "fhir_export_files"
CHUNK_BYTES = 64 * 1024  # one chunk in memory while writing or reading a file


def _file_from_doc(d: Document) -> ExportFile:
    return ExportFile(d["type"], d["file_id"], d["count"])


def export_from_doc(d: Document) -> ExportJob:
    return ExportJob(
        id=d["_id"],
        agency_id=d["agency_id"],
        requested_by=d["requested_by"],
        types=tuple(d["types"]),
        since=d.get("since"),
        request_url=d["request_url"],
        status=ExportStatus(d["status"]),
        requested_at=d["requested_at"],
        files=tuple(_file_from_doc(f) for f in d.get("files", [])),
        current_file_ids=tuple(d.get("current_file_ids") or ()),
        current_type=d.get("current_type"),
        finished_at=d.get("finished_at"),
        expires_at=d.get("expires_at"),
    )


class ExportFileWriter:
    """One NDJSON file being uploaded: bytes go out a chunk at a time, the file exists once closed."""

    def __init__(self, stream: AsyncGridIn) -> None:
        self._stream = stream

    async def write(self, data: bytes) -> None:
        await self._stream.write(data)

    async def close(self) -> None:
        await self._stream.close()

    async def abort(self) -> None:
        """Deletes the chunks written so far; the file never appears."""
        await self._stream.abort()


class FhirExportStore:
    def __init__(self, db: Db) -> None:
        self._c = db["fhir_exports"]
        # The bucket wants the database object itself: `client[name]` is the same database either way.
        self._bucket = AsyncGridFSBucket(db.client[db.name], bucket_name=BUCKET, chunk_size_bytes=CHUNK_BYTES)

    async def insert(self, job: ExportJob, *, due_at: datetime) -> None:
        await insert_new(
            self._c,
            {
                "_id": job.id,
                "agency_id": job.agency_id,
                "requested_by": job.requested_by,
                "types": list(job.types),
                "since": job.since,
                "request_url": job.request_url,
                "status": job.status.value,
                "requested_at": job.requested_at,
                "files": [],
                "due_at": due_at,
            },
        )

    async def get(self, export_id: str) -> ExportJob | None:
        d = await self._c.find_one({"_id": export_id})
        return export_from_doc(d) if d else None

    async def claim(self, *, now: datetime, owner: str, lease: timedelta) -> ExportJob | None:
        """The earliest running job whose lease is free or lapsed: a dead instance's export is taken over."""
        extra = {"status": ExportStatus.RUNNING.value}
        d = await claim_due(self._c, due_field="due_at", now=now, owner=owner, lease=lease, extra=extra)
        return export_from_doc(d) if d else None

    async def _update_held(self, export_id: str, owner: str, update: Document) -> bool:
        query = {"_id": export_id, "lease_owner": owner, "status": ExportStatus.RUNNING.value}
        # Matched, not modified: a renewal to the lease it already has changes nothing, and still holds.
        return (await self._c.update_one(query, update)).matched_count == 1

    async def begin_file(self, export_id: str, *, owner: str, resource_type: str, file_id: str) -> bool:
        """Records the file about to be written, before its first chunk; False if the claim is lost."""
        update = {"$set": {"current_type": resource_type}, "$push": {"current_file_ids": file_id}}
        return await self._update_held(export_id, owner, update)

    async def renew(self, export_id: str, *, owner: str, until: datetime) -> bool:
        """Extends the lease of a long file; False when it lapsed, or the requester cancelled."""
        return await self._update_held(export_id, owner, {"$set": {"lease_until": until}})

    async def add_files(self, export_id: str, *, owner: str, files: list[ExportFile]) -> bool:
        """A type's parts join the manifest together, in one update: a type is all there or not at all."""
        written = [{"type": f.type, "file_id": f.file_id, "count": f.count} for f in files]
        update = {"$push": {"files": {"$each": written}}, "$set": {"current_type": None, "current_file_ids": []}}
        return await self._update_held(export_id, owner, update)

    async def finish(self, export_id: str, *, owner: str, at: datetime, expires_at: datetime) -> bool:
        update = {
            "$set": {
                "status": ExportStatus.DONE.value,
                "finished_at": at,
                "expires_at": expires_at,
                "due_at": None,
                "lease_until": None,
                "lease_owner": None,
            }
        }
        return await self._update_held(export_id, owner, update)

    async def cancel(self, export_id: str, *, at: datetime) -> bool:
        """Cancelled at once (renewals fail from now on); its files expire `at`."""
        result = await self._c.update_one(
            {"_id": export_id, "status": {"$ne": ExportStatus.CANCELLED.value}},
            {"$set": {"status": ExportStatus.CANCELLED.value, "expires_at": at, "due_at": None}},
        )
        return result.modified_count == 1

    async def expired(self, now: datetime, limit: int = 100) -> list[ExportJob]:
        docs = await self._c.find({"expires_at": {"$lte": now}}).sort("expires_at", 1).limit(limit).to_list()
        return [export_from_doc(d) for d in docs]

    async def delete(self, export_id: str) -> None:
        await self._c.delete_one({"_id": export_id})

    # --- files ---------------------------------------------------------------------------------------

    def open_file(self, file_id: str, filename: str, metadata: dict[str, Any]) -> ExportFileWriter:
        return ExportFileWriter(self._bucket.open_upload_stream_with_id(file_id, filename, metadata=metadata))

    async def delete_file(self, file_id: str) -> None:
        """Deletes a file, or the chunks of an upload that never closed; idempotent."""
        with contextlib.suppress(NoFile):  # the chunks go whether or not the file was ever closed
            await self._bucket.delete(file_id)

    async def abandon_files(self, export_id: str, *, owner: str) -> bool:
        """Forgets the parts of a dead instance's type once they are deleted."""
        return await self._update_held(export_id, owner, {"$set": {"current_type": None, "current_file_ids": []}})

    async def read_file(self, file_id: str) -> AsyncIterator[bytes]:
        """The file a chunk at a time; NoFile surfaces as an empty read."""
        try:
            stream = await self._bucket.open_download_stream(file_id)
        except NoFile:
            return
        while chunk := await stream.readchunk():
            yield chunk
