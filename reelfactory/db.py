"""Our own records: publications, the approval audit trail, and what each video cost.

SQLite in the data directory by default; PostgreSQL by URL (``REEL_DB_URL``). The schema
is owned by alembic (``reelfactory/migrations``); ``init_db`` upgrades to head.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from sqlalchemy import Engine, UniqueConstraint
from sqlmodel import Field, Session, SQLModel, create_engine, select

from reelfactory.models import ApprovalDecision, CostRecord, Publication, VideoRecord

MIGRATIONS = Path(__file__).parent / "migrations"


class PublicationRow(SQLModel, table=True):
    __tablename__ = "publication"
    __table_args__ = (UniqueConstraint("bucket", "key", "flow_run_id"),)

    id: int | None = Field(default=None, primary_key=True)
    brief_id: str = Field(index=True)
    brand: str = Field(default="", index=True)
    campaign: str = ""
    flow_run_id: str = Field(index=True)
    aspect_ratio: str
    bucket: str
    key: str
    uri: str
    captions_key: str
    captions_uri: str
    subtitles_key: str = ""
    manifest_key: str = Field(default="", index=True)
    version: int = 1
    already_published: bool = False
    sha256: str
    size: int
    duration_s: float
    width: int
    height: int
    link: str
    published_at: datetime


class ApprovalAuditRow(SQLModel, table=True):
    __tablename__ = "approval_audit"

    id: int | None = Field(default=None, primary_key=True)
    brief_id: str = Field(index=True)
    flow_run_id: str = Field(index=True)
    step: str = "approval"
    version: int = 1
    approver: str
    decision: str | None = None
    accepted: bool
    reason: str = ""
    notes: str = ""
    changes: str = Field(default="", description="JSON: shot number -> requested direction.")
    decided_at: datetime


COST_COLUMNS = (
    "renders",
    "reused",
    "gpu_s",
    "cpu_s",
    "saved_gpu_s",
    "saved_cpu_s",
    "assembly_s",
    "moderation_s",
)


class VideoRow(SQLModel, table=True):
    """What each produce-video run cost and how it ended (cost and ROI reports)."""

    __tablename__ = "video"

    id: int | None = Field(default=None, primary_key=True)
    flow_run_id: str = Field(unique=True)
    brief_id: str = Field(index=True)
    brand: str = Field(index=True)
    campaign: str = Field(index=True)
    status: str
    versions: int = 1
    submitted_at: datetime
    decided_at: datetime | None = None
    finished_at: datetime = Field(index=True)
    renders: int = 0
    reused: int = 0
    gpu_s: float = 0.0
    cpu_s: float = 0.0
    saved_gpu_s: float = 0.0
    saved_cpu_s: float = 0.0
    assembly_s: float = 0.0
    moderation_s: float = 0.0
    priced: float | None = None
    currency: str = "USD"

    def record(self) -> VideoRecord:
        times = {k: _utc(getattr(self, k)) for k in ("submitted_at", "decided_at", "finished_at")}
        return VideoRecord(
            **self.model_dump(exclude={"id", *COST_COLUMNS, *times}),
            **times,
            cost=CostRecord(**{c: getattr(self, c) for c in COST_COLUMNS}),
        )


def _as_utc(at: datetime) -> datetime:
    """SQLite hands datetimes back naive; every time we store is UTC."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _utc(at: datetime | None) -> datetime | None:
    return None if at is None else _as_utc(at)


@cache
def engine_for(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return create_engine(url, pool_pre_ping=True)


def init_db(url: str) -> Engine:
    """Bring the schema to the newest migration."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    engine = engine_for(url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return engine


@contextmanager
def session_for(url: str) -> Iterator[Session]:
    with Session(engine_for(url)) as session:
        yield session


def record_decision(*, session: Session, decision: ApprovalDecision) -> ApprovalAuditRow:
    row = ApprovalAuditRow(
        brief_id=decision.brief_id,
        flow_run_id=decision.flow_run_id,
        step=decision.step,
        version=decision.version,
        approver=decision.approver,
        decision=decision.decision.value if decision.decision else None,
        accepted=decision.accepted,
        reason=decision.reason,
        notes=decision.notes,
        changes=json.dumps(decision.changes) if decision.changes else "",
        decided_at=decision.decided_at,
    )
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def record_publication(
    *, session: Session, publication: Publication, at: datetime
) -> PublicationRow:
    """Insert once per (bucket, key, run): a retried publish step finds its row again."""
    existing = session.exec(
        select(PublicationRow).where(
            PublicationRow.bucket == publication.bucket,
            PublicationRow.key == publication.key,
            PublicationRow.flow_run_id == publication.flow_run_id,
        )
    ).first()
    if existing is not None:
        return existing
    row = PublicationRow(
        **publication.model_dump(mode="json", exclude={"aspect_ratio"}),
        aspect_ratio=publication.aspect_ratio.value,
        published_at=at,
    )
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def publications(
    *, session: Session, brand: str | None = None, limit: int = 100
) -> list[PublicationRow]:
    """The newest publications first, optionally for one brand."""
    stmt = select(PublicationRow)
    if brand:
        stmt = stmt.where(PublicationRow.brand == brand)
    stmt = stmt.order_by(PublicationRow.id.desc()).limit(limit)  # type: ignore[union-attr]
    return list(session.exec(stmt))


def published_brief_ids(*, session: Session, brief_ids: list[str]) -> set[str]:
    """Which of ``brief_ids`` have at least one publication."""
    stmt = select(PublicationRow.brief_id).where(
        PublicationRow.brief_id.in_(brief_ids)  # type: ignore[attr-defined]
    )
    return set(session.exec(stmt))


def record_video(*, session: Session, video: VideoRecord) -> VideoRow:
    """Insert once per run: a retried step finds its row again."""
    existing = session.exec(
        select(VideoRow).where(VideoRow.flow_run_id == video.flow_run_id)
    ).first()
    if existing is not None:
        return existing
    cost = video.cost
    row = VideoRow(
        **video.model_dump(exclude={"cost", "submitted_at", "decided_at", "finished_at"}),
        submitted_at=_as_utc(video.submitted_at),
        decided_at=_utc(video.decided_at),
        finished_at=_as_utc(video.finished_at),
        **{c: getattr(cost, c) for c in COST_COLUMNS},
    )
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def videos(
    *,
    session: Session,
    campaign: str | None = None,
    brand: str | None = None,
    since: datetime | None = None,
) -> list[VideoRecord]:
    """Recorded runs, oldest first, filtered by campaign, brand and finish time."""
    stmt = select(VideoRow)
    if campaign:
        stmt = stmt.where(VideoRow.campaign == campaign)
    if brand:
        stmt = stmt.where(VideoRow.brand == brand)
    if since:
        stmt = stmt.where(VideoRow.finished_at >= _as_utc(since))
    return [row.record() for row in session.exec(stmt.order_by(VideoRow.id))]  # type: ignore[arg-type]


def video_for_run(*, session: Session, flow_run_id: str) -> VideoRecord | None:
    row = session.exec(select(VideoRow).where(VideoRow.flow_run_id == flow_run_id)).first()
    return row.record() if row is not None else None


def publications_for_run(*, session: Session, flow_run_id: str) -> list[PublicationRow]:
    stmt = select(PublicationRow).where(PublicationRow.flow_run_id == flow_run_id)
    return list(session.exec(stmt.order_by(PublicationRow.id)))  # type: ignore[arg-type]


def decisions_for_run(*, session: Session, flow_run_id: str) -> list[ApprovalAuditRow]:
    stmt = select(ApprovalAuditRow).where(ApprovalAuditRow.flow_run_id == flow_run_id)
    return list(session.exec(stmt.order_by(ApprovalAuditRow.id)))  # type: ignore[arg-type]
