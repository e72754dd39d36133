"""Independent reference implementation used by the tests: validation and tumbling-window aggregates of a
list of Kafka record values, written in plain Python (no Flink, no SQL)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

FIELDS_STR = ("event_id", "sensor_id")
FIELDS_NUM = ("temperature", "humidity", "pressure", "battery")
FIELDS_INT = ("ts", "seq")


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def parse_event(value: bytes | None):
    """The event dict if `value` is a valid sensor event, else None."""
    if not value:
        return None
    try:
        d = json.loads(value)
    except ValueError:
        return None
    if not isinstance(d, dict):
        return None
    for f in FIELDS_STR:
        if not isinstance(d.get(f), str) or not d[f].strip():
            return None
    for f in FIELDS_NUM:
        v = d.get(f)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return None
    for f in FIELDS_INT:
        v = d.get(f)
        if isinstance(v, bool) or not isinstance(v, int):
            return None
    if d["ts"] <= 0 or d["seq"] < 0:
        return None
    return d


def window_aggregates(events: list[dict], window_s: int, threshold: float) -> dict:
    """{(sensor_id, window_start_iso): row} for tumbling windows aligned to the epoch."""
    w = window_s * 1000
    groups: dict = {}
    for e in events:
        start = e["ts"] - (e["ts"] % w)
        groups.setdefault((e["sensor_id"], start), []).append(e)
    out = {}
    for (sid, start), es in groups.items():
        temps = [float(e["temperature"]) for e in es]
        hums = [float(e["humidity"]) for e in es]
        out[(sid, iso(start))] = {
            "sensor_id": sid,
            "window_start": iso(start),
            "window_end": iso(start + w),
            "event_count": len(es),
            "avg_temperature": sum(temps) / len(temps),
            "min_temperature": min(temps),
            "max_temperature": max(temps),
            "avg_humidity": sum(hums) / len(hums),
            "anomaly_count": sum(1 for t in temps if t > threshold),
        }
    return out
