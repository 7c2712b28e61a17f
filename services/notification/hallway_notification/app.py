"""The notification service process: inboxes from events, gRPC API, live streams, email."""

from __future__ import annotations

import asyncio

from pydantic import Field

from hallway.notification.v1 import notification_pb2, notification_pb2_grpc
from hallway_common import catalogue
from hallway_common.config import DatabaseSettings, file_problems, refuse
from hallway_common.logs import get_logger
from hallway_common.runtime import Runtime, run
from hallway_notification import consumers, inbox
from hallway_notification.digest import DigestMailer, Periods
from hallway_notification.grpc_api import NotificationServicer
from hallway_notification.mailer import Mailer, SmtpConfig
from hallway_notification.prefs import NoTokens, UnsubscribeTokens
from hallway_notification.streams import StreamHub

log = get_logger(__name__)

SERVICE_NAME = notification_pb2.DESCRIPTOR.services_by_name["NotificationService"].full_name
DEFAULTS = {
    # gRPC and metrics ports: the service catalogue's (docs/deploy.md#ports-consumer-groups-and-topics)
    **catalogue.service("notification").defaults(),
    "database_url": "postgresql://hallway:hallway@localhost:5433/notification",
}


class NotificationSettings(DatabaseSettings):
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    smtp_from: str = "hallway@localhost"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    email_enabled: bool = True
    # Link in emails to the web UI (the gateway), and base of their unsubscribe links.
    public_url: str = "http://localhost:8080"
    # Secret (at least 16 bytes, e.g. 32 random bytes hex) that signs the one-click
    # unsubscribe links in emails. Empty: emails carry no unsubscribe link (a warning
    # at start). The local stack generates one (hallway_dev.devpki: unsubscribe.key).
    unsubscribe_key_file: str = ""
    # Length of the digest periods; tests shorten them to seconds.
    digest_daily_seconds: float = Field(default=86400.0, gt=0)
    digest_weekly_seconds: float = Field(default=7 * 86400.0, gt=0)
    # How often the digest mailer looks for due digests.
    digest_poll_seconds: float = Field(default=60.0, gt=0)
    stream_queue_size: int = Field(default=100, ge=1, le=10_000)
    stream_max_per_person: int = Field(default=16, ge=1, le=1000)
    notification_retention_days: int = Field(default=365, ge=1)


async def build(rt: Runtime[NotificationSettings]) -> None:
    assert rt.pool is not None
    settings = rt.settings
    pool = rt.pool

    if settings.unsubscribe_key_file:
        refuse(
            file_problems(
                "UNSUBSCRIBE_KEY_FILE", settings.unsubscribe_key_file, "signs unsubscribe links"
            )
        )
        try:
            tokens: UnsubscribeTokens | NoTokens = UnsubscribeTokens.from_file(
                settings.unsubscribe_key_file
            )
        except ValueError as exc:
            refuse([f"HALLWAY_UNSUBSCRIBE_KEY_FILE: {exc}"])
            raise
    else:
        log.warning("HALLWAY_UNSUBSCRIBE_KEY_FILE is not set: emails carry no unsubscribe link")
        tokens = NoTokens()

    mailer = None
    if settings.email_enabled:
        smtp = SmtpConfig(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
            timeout=settings.smtp_timeout_seconds,
        )
        mailer = Mailer(pool, smtp, public_url=settings.public_url, tokens=tokens)
        rt.background(mailer.run)
        digests = DigestMailer(
            pool,
            smtp,
            Periods(settings.digest_daily_seconds, settings.digest_weekly_seconds),
            public_url=settings.public_url,
            poll_seconds=settings.digest_poll_seconds,
            tokens=tokens,
        )
        rt.background(digests.run)

    hub = StreamHub(
        pool,
        settings.database_url,
        queue_size=settings.stream_queue_size,
        max_per_person=settings.stream_max_per_person,
        on_notify=mailer.wake if mailer else None,
    )
    # Listen before serving, so the first stream cannot miss a notification.
    await hub.connect()
    rt.background(hub.run)
    rt.on_close(hub.close)

    async def housekeeping() -> None:
        while True:
            try:
                removed = await inbox.housekeeping(pool, settings.notification_retention_days)
                log.info("housekeeping done", **removed)
            except Exception as exc:  # never take the service down for cleanup
                log.warning("housekeeping failed", error=repr(exc))
            await asyncio.sleep(3600)

    rt.background(housekeeping)
    consumers.register(rt)
    rt.grpc.add(
        notification_pb2_grpc.add_NotificationServiceServicer_to_server,
        NotificationServicer(pool, hub, tokens),
        SERVICE_NAME,
    )


def main(argv: list[str] | None = None) -> None:
    run(
        "notification",
        NotificationSettings,
        build,
        defaults=DEFAULTS,
        migrate_packages=["hallway_notification"],
        argv=argv,
    )
