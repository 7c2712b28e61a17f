"""The lag monitor survives a broker restart and says how old its last good sample is.

Unit test with stand-in clients: the first pair fails the way clients of a
restarted broker do (errors, or a call that never returns); the monitor must drop
them, connect afresh and keep publishing real figures, never a made-up zero.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import TopicPartition
from aiokafka.errors import KafkaConnectionError
from aiokafka.structs import OffsetAndMetadata
from prometheus_client import REGISTRY

from hallway_common.config import ServiceSettings
from hallway_common.kafka import LagMonitor
from hallway_common.metrics import CONSUMER_LAG
from hallway_dev.testing import eventually

TOPIC = "lagtest.topic"
GROUP = "lagtest-group"
TP = TopicPartition(TOPIC, 0)


class Admin:
    def __init__(self, committed: int, mode: str = "ok") -> None:
        self.committed = committed
        self.mode = mode
        self.closed = False

    async def list_consumer_group_offsets(self, group: str) -> dict:
        if self.mode == "error":
            raise KafkaConnectionError("broker went away")
        if self.mode == "hang":
            await asyncio.Event().wait()
        if self.mode == "never-committed":
            return {}
        return {TP: OffsetAndMetadata(self.committed, "")}

    async def describe_topics(self, topics: list[str]) -> list[dict]:
        return [{"topic": TOPIC, "error_code": 0, "partitions": [{"partition": 0}]}]

    async def close(self) -> None:
        self.closed = True


class Offsets:
    def __init__(self, end: int) -> None:
        self.end = end

    async def end_offsets(self, partitions: list[TopicPartition]) -> dict:
        return {tp: self.end for tp in partitions}

    async def beginning_offsets(self, partitions: list[TopicPartition]) -> dict:
        return {tp: self.start for tp in partitions}

    start = 0

    async def stop(self) -> None:
        pass


def _lag() -> float | None:
    return REGISTRY.get_sample_value(
        "hallway_consumer_lag_messages", {"topic": TOPIC, "partition": "0", "group": GROUP}
    )


def _age() -> float:
    value = REGISTRY.get_sample_value("hallway_consumer_lag_sample_age_seconds", {"group": GROUP})
    assert value is not None
    return value


async def _run_with(pairs: list[tuple[Admin, Offsets]]) -> tuple[LagMonitor, asyncio.Task, list]:
    handed: list[Any] = []

    async def connect() -> Any:
        pair = pairs[min(len(handed), len(pairs) - 1)]
        handed.append(pair)
        return pair

    monitor = LagMonitor(ServiceSettings(), {GROUP: [TOPIC]}, every=0.05, connect=connect)
    return monitor, asyncio.create_task(monitor.run()), handed


async def test_a_failing_client_pair_is_replaced_and_the_gauge_is_never_zeroed() -> None:
    healthy = (Admin(committed=100), Offsets(end=4100))
    _, task, handed = await _run_with([(Admin(0, "error"), Offsets(0)), healthy])
    try:
        await eventually(lambda: _lag() == 4000, within=5, what="lag from the fresh clients")
        assert handed[0][0].closed  # the broken pair was thrown away
        assert _age() < 1
    finally:
        task.cancel()


async def test_a_hung_sample_times_out_and_the_age_grows_meanwhile() -> None:
    CONSUMER_LAG.labels(TOPIC, "0", GROUP).set(1234)
    hung = Admin(0, "hang")
    monitor, task, handed = await _run_with([(hung, Offsets(0))])
    monitor._every = 0.05
    try:
        await eventually(lambda: _age() > 0.5, within=10, what="the sample age grows")
        assert _lag() == 1234  # an unknown lag is not reported as 0
        hung.mode = "ok"
        hung.committed, handed[0][1].end = 10, 15
        await eventually(lambda: _lag() == 5, within=15, what="recovers after the timeout")
        assert _age() < 1
    finally:
        task.cancel()


async def test_a_group_without_commits_lags_from_the_log_start_not_from_zero() -> None:
    offsets = Offsets(end=5000)
    offsets.start = 4000  # retention deleted everything before offset 4000
    _, task, _ = await _run_with([(Admin(0, "never-committed"), offsets)])
    try:
        await eventually(lambda: _lag() == 1000, within=5, what="lag counted from the log start")
    finally:
        task.cancel()
