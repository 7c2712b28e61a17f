"""Re-drive dead-lettered events after a fix: ``python -m hallway_<svc> dlq replay``.

Each parked record goes back to the topic it came from (header
``dlq_original_topic``) with its original key, value and CloudEvents headers, so
consumers treat it as the event it was: they deduplicate by ``ce_id``, which makes
a replay harmless to repeat. Progress is a consumer group of its own
(``<group>.dlq-replay``) whose offsets are committed only after Kafka acknowledged
the re-published records: an interrupted replay resumes where it stopped, and a
record that fails again is parked again as a new DLQ record, never looped over.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from hallway_common.config import ServiceSettings
from hallway_common.contracts import dlq_topic
from hallway_common.kafka import client_kwargs, topic_partitions

REPLAYED_AT_HEADER = "dlq_replayed_at"
# Provenance of a replayed record: "<dlq topic>:<partition>:<offset>" it was read from.
REPLAYED_FROM_HEADER = "dlq_replayed_from"


@dataclass
class ReplayReport:
    replayed: int = 0
    skipped: int = 0  # parked before --since
    unroutable: int = 0  # no dlq_original_topic header: left for a human
    dry_run: bool = False

    def summary(self) -> str:
        verb = "would replay" if self.dry_run else "replayed"
        return (
            f"{verb} {self.replayed}, skipped {self.skipped} (before --since), "
            f"unroutable {self.unroutable}{' (dry run: nothing sent or committed)' if self.dry_run else ''}"
        )


def replay_group(group: str) -> str:
    return f"{group}.dlq-replay"


async def replay(
    settings: ServiceSettings,
    group: str,
    *,
    since: datetime | None = None,
    dry_run: bool = False,
    from_beginning: bool = False,
    out: TextIO = sys.stdout,
    now: Callable[[], datetime] | None = None,
) -> ReplayReport:
    """Replay what ``group`` dead-lettered, up to the DLQ's end when the call started."""
    prefix = settings.kafka_topic_prefix
    topic = prefix + dlq_topic(group)
    consumer = AIOKafkaConsumer(
        **client_kwargs(settings),
        group_id=prefix + replay_group(group),
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    producer = AIOKafkaProducer(**client_kwargs(settings), acks="all", enable_idempotence=True)
    report = ReplayReport(dry_run=dry_run)
    await consumer.start()
    await producer.start()
    try:
        admin = AIOKafkaAdminClient(**client_kwargs(settings))
        await admin.start()
        try:
            tps = await topic_partitions(admin, [topic])
        finally:
            await admin.close()
        if not tps:
            out.write(f"{topic}: no such topic, nothing to replay\n")
            return report
        consumer.assign(tps)
        if from_beginning:
            await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        total = sum([ends[tp] - await consumer.position(tp) for tp in tps])
        out.write(f"{topic}: {total} record(s) to examine\n")
        while any([await consumer.position(tp) < ends[tp] for tp in tps]):
            batches = await consumer.getmany(*tps, timeout_ms=1000)
            sent = []
            for tp, records in batches.items():
                for record in records:
                    if record.offset >= ends[tp]:
                        continue  # parked after we started: the next replay takes it
                    headers = {k: v.decode() for k, v in record.headers}
                    original = headers.get("dlq_original_topic")
                    if not original:
                        report.unroutable += 1
                        continue
                    failed_at = headers.get("dlq_failed_at")
                    if since and failed_at and datetime.fromisoformat(failed_at) < since:
                        report.skipped += 1
                        continue
                    report.replayed += 1
                    if dry_run:
                        out.write(f"  would replay {headers.get('ce_id', '?')} -> {original}\n")
                        continue
                    kept = [(k, v) for k, v in record.headers if not k.startswith("dlq_")]
                    stamp = (now() if now else datetime.now().astimezone()).isoformat()
                    kept.append((REPLAYED_AT_HEADER, stamp.encode()))
                    kept.append(
                        (
                            REPLAYED_FROM_HEADER,
                            f"{tp.topic}:{tp.partition}:{record.offset}".encode(),
                        )
                    )
                    sent.append(
                        await producer.send(original, record.value, key=record.key, headers=kept)
                    )
            if sent:
                await asyncio.gather(*sent)  # acknowledged before the offsets move on
            if not dry_run and batches:
                await consumer.commit()
            if report.replayed and report.replayed % 100 == 0:
                out.write(f"  ... {report.replayed} replayed so far\n")
        out.write(report.summary() + "\n")
        return report
    finally:
        await producer.stop()
        await consumer.stop()
