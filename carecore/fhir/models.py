"""Bulk export jobs (HL7 Bulk Data `Group/$export`): what was asked, by whom, and how far it has come."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ExportStatus(StrEnum):
    RUNNING = "RUNNING"  # queued or being written by whichever instance holds its lease
    DONE = "DONE"  # every file written; downloadable until `expires_at`
    CANCELLED = "CANCELLED"  # the requester cancelled (or it expired): its files are being deleted


@dataclass(frozen=True, slots=True)
class ExportFile:
    """One NDJSON file of the manifest: a type's resources, or one part of them when they are many."""

    type: str
    file_id: str
    count: int


@dataclass(frozen=True, slots=True)
class ExportJob:
    id: str
    agency_id: str
    requested_by: str  # the user whose view the files hold: only they may poll, download or cancel
    types: tuple[str, ...]
    since: datetime | None
    request_url: str
    status: ExportStatus
    requested_at: datetime
    files: tuple[ExportFile, ...] = ()
    # The parts of the type being written: each recorded before its first byte, so whoever takes the job
    # over deletes them all and writes that type again.
    current_file_ids: tuple[str, ...] = ()
    current_type: str | None = None
    finished_at: datetime | None = None
    expires_at: datetime | None = None

    @property
    def pending_types(self) -> tuple[str, ...]:
        written = {f.type for f in self.files}
        return tuple(t for t in self.types if t not in written)
