#!/usr/bin/env python3
"""IoT sensor simulator: produces JSON sensor events to a Kafka topic.

Each record: key = sensor_id (UTF-8), value = one JSON object (UTF-8)
    {"event_id": "...", "sensor_id": "sensor-007", "ts": 1764064800123, "temperature": 21.37,
     "humidity": 45.2, "pressure": 1013.2, "battery": 0.93, "seq": 42}

The pure part (SensorFleet, make_malformed, make_sentinel, Manifest) has no Kafka import so that the
unit tests can run it without a broker; `main()` wires it to a confluent-kafka producer.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import time
import uuid
from dataclasses import dataclass, field

import kafka_security

# Sentinel record that pushes event time forward at the end of a run (see README, "final watermark").
WATERMARK_SENSOR_ID = "__watermark__"
# The header that marks a control record (the final watermark): the job moves event time with it and counts it
# nowhere. A record without it is data, whatever its sensor_id.
CONTROL_HEADER = ("pipeline-control", b"watermark")

# Bounds of the random walks (the anomaly threshold of flink_job.py, 50 °C, sits above TEMP_MAX and below
# TEMP_MAX's smallest spike TEMP_MIN + SPIKE_MIN).
TEMP_MIN, TEMP_MAX = 15.0, 35.0
HUM_MIN, HUM_MAX = 20.0, 80.0
PRES_MIN, PRES_MAX = 980.0, 1040.0
BATTERY_MIN = 0.05
BATTERY_DRAIN = 0.00002  # per event
SPIKE_MIN, SPIKE_MAX = 40.0, 60.0  # added to the current temperature of an anomalous event
DEFAULT_ANOMALY_THRESHOLD = 50.0

# Out-of-order events: a "mild" one is a few seconds old (inside a 5 s out-of-orderness bound), a "severe"
# one is `late_delay_ms` or more older, far behind any watermark, so it exercises the job's `late` path.
MILD_LATE_MAX_MS = 3000

MALFORMED_KINDS = ("invalid_json", "missing_field", "wrong_type", "empty")
REQUIRED_FIELDS = ("event_id", "sensor_id", "ts", "temperature", "humidity", "pressure", "battery", "seq")


def sensor_id(i: int) -> str:
    return f"sensor-{i:03d}"


def _clamp(x: float, lo: float, hi: float) -> float:
    return lo if x < lo else hi if x > hi else x


@dataclass
class SensorState:
    sid: str
    key: bytes
    temperature: float
    humidity: float
    pressure: float
    battery: float
    seq: int = 0


@dataclass
class Manifest:
    """Counts of what was produced (only records acknowledged by the broker count as sent)."""

    run_id: str
    topic: str
    sensors: dict = field(default_factory=dict)  # sid -> {"events", "first_seq", "last_seq"}
    valid_events: int = 0
    malformed: int = 0
    malformed_by_kind: dict = field(default_factory=dict)
    late: int = 0
    late_severe: int = 0
    anomalies: int = 0
    sentinels: int = 0
    min_ts: int | None = None
    max_ts: int | None = None

    def to_dict(self, **extra) -> dict:
        d = {
            "run_id": self.run_id,
            "topic": self.topic,
            "total_sent": self.valid_events + self.malformed,
            "valid_events": self.valid_events,
            "malformed": self.malformed,
            "malformed_by_kind": dict(sorted(self.malformed_by_kind.items())),
            "late": self.late,
            "late_severe": self.late_severe,
            "anomalies": self.anomalies,
            "watermark_sentinels": self.sentinels,
            "min_ts": self.min_ts,
            "max_ts": self.max_ts,
            "sensors": {k: dict(v) for k, v in sorted(self.sensors.items())},
        }
        d.update(extra)
        return d


class SensorFleet:
    """Generates events round-robin over K sensors with drifting readings (pure, seeded).

    Event k of the run belongs to sensor k % K and has seq k // K; its event time is
    start_ts + seq * event_interval_ms (minus a delay if it is injected as out-of-order).
    """

    def __init__(
        self,
        sensors: int = 10,
        seed: int | None = None,
        start_ts: int | None = None,
        event_interval_ms: int = 100,
        late_fraction: float = 0.0,
        anomaly_fraction: float = 0.0,
        malformed_fraction: float = 0.0,
        late_delay_ms: int = 60000,
        run_id: str | None = None,
    ):
        if sensors < 1:
            raise ValueError("sensors must be >= 1")
        for name, v in (("late", late_fraction), ("anomaly", anomaly_fraction), ("malformed", malformed_fraction)):
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} fraction must be within [0, 1]")
        self.rng = random.Random(seed)
        self.run_id = run_id or uuid.UUID(int=self.rng.getrandbits(128)).hex[:12]
        self.start_ts = int(time.time() * 1000) if start_ts is None else int(start_ts)
        self.interval = int(event_interval_ms)
        self.late_fraction = late_fraction
        self.anomaly_fraction = anomaly_fraction
        self.malformed_fraction = malformed_fraction
        self.late_delay_ms = int(late_delay_ms)
        r = self.rng
        self.states = [
            SensorState(
                sid=sensor_id(i),
                key=sensor_id(i).encode(),
                temperature=r.uniform(18.0, 30.0),
                humidity=r.uniform(35.0, 65.0),
                pressure=r.uniform(1000.0, 1025.0),
                battery=r.uniform(0.85, 1.0),
            )
            for i in range(sensors)
        ]
        self.k = 0  # index of the next event over all sensors
        self.max_ts: int | None = None

    def next_record(self) -> tuple[bytes, bytes, str]:
        """Return (key, value, kind) where kind is 'event' | 'late' | 'late_severe' | 'anomaly' |
        'anomaly+late...' or 'malformed:<kind>'. Malformed records do not consume a seq."""
        r = self.rng.random
        if self.malformed_fraction and r() < self.malformed_fraction:
            st = self.states[self.k % len(self.states)]
            kind, value = make_malformed(self.rng, st.sid, self.start_ts + st.seq * self.interval)
            return st.key, value, "malformed:" + kind
        st = self.states[self.k % len(self.states)]
        self.k += 1
        seq = st.seq
        st.seq += 1
        ts = self.start_ts + seq * self.interval
        if self.max_ts is None or ts > self.max_ts:
            self.max_ts = ts
        # random walks
        t = st.temperature = _clamp(st.temperature + (r() - 0.5) * 0.4, TEMP_MIN, TEMP_MAX)
        h = st.humidity = _clamp(st.humidity + (r() - 0.5) * 1.0, HUM_MIN, HUM_MAX)
        p = st.pressure = _clamp(st.pressure + (r() - 0.5) * 0.6, PRES_MIN, PRES_MAX)
        b = st.battery = max(BATTERY_MIN, st.battery - BATTERY_DRAIN * (0.5 + r()))
        kind = "event"
        if self.anomaly_fraction and r() < self.anomaly_fraction:
            t = t + SPIKE_MIN + (SPIKE_MAX - SPIKE_MIN) * r()
            kind = "anomaly"
        if self.late_fraction and r() < self.late_fraction:
            if r() < 0.5:
                ts -= 1 + int(r() * MILD_LATE_MAX_MS)
                kind += "+late"
            else:
                ts -= self.late_delay_ms + int(r() * self.late_delay_ms)
                kind += "+late_severe"
        value = (
            f'{{"event_id":"{self.run_id}-{st.sid}-{seq}","sensor_id":"{st.sid}","ts":{ts},'
            f'"temperature":{t:.2f},"humidity":{h:.1f},"pressure":{p:.1f},"battery":{b:.3f},"seq":{seq}}}'
        ).encode()
        return st.key, value, kind


def make_malformed(rng: random.Random, sid: str, ts: int) -> tuple[str, bytes]:
    """One record that the job must send to dead-letter (never a valid event)."""
    kind = MALFORMED_KINDS[rng.randrange(len(MALFORMED_KINDS))]
    good = {
        "event_id": uuid.UUID(int=rng.getrandbits(128)).hex,
        "sensor_id": sid,
        "ts": ts,
        "temperature": 21.5,
        "humidity": 40.0,
        "pressure": 1012.0,
        "battery": 0.9,
        "seq": 0,
    }
    if kind == "invalid_json":
        text = json.dumps(good)
        cut = rng.randrange(5, len(text) - 1)
        return kind, text[:cut].encode()  # truncated JSON is never valid
    if kind == "missing_field":
        del good[REQUIRED_FIELDS[rng.randrange(len(REQUIRED_FIELDS))]]
        return kind, json.dumps(good).encode()
    if kind == "wrong_type":
        f = ("ts", "temperature", "humidity", "pressure", "battery", "seq")[rng.randrange(6)]
        good[f] = rng.choice(["n/a", "hot", "", "12abc"])
        return kind, json.dumps(good).encode()
    return kind, b""  # empty value


def make_sentinel(run_id: str, partition: int, ts: int) -> tuple[bytes, bytes]:
    """Final-watermark record for one partition: a valid event (of sensor `__watermark__`, for a reader's eye), sent
    with the CONTROL_HEADER, which the job uses only to advance event time (excluded from aggregates, alerts and
    dead-letter)."""
    value = json.dumps(
        {
            "event_id": f"{WATERMARK_SENSOR_ID}-{run_id}-{partition}",
            "sensor_id": WATERMARK_SENSOR_ID,
            "ts": int(ts),
            "temperature": 0.0,
            "humidity": 0.0,
            "pressure": 0.0,
            "battery": 0.0,
            "seq": 0,
        },
        separators=(",", ":"),
    ).encode()
    return WATERMARK_SENSOR_ID.encode(), value


def default_event_interval_ms(rate: float, sensors: int) -> int:
    if rate and rate > 0:
        return max(1, int(round(1000.0 / rate * sensors)))
    return 100


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="IoT sensor simulator producing JSON events to Kafka (key = sensor_id).",
    )
    p.add_argument("--bootstrap-servers", default="127.0.0.1:9092")
    p.add_argument("--topic", default="sensor-data")
    p.add_argument("--rate", type=float, default=100.0, help="events/s over all sensors; 0 = as fast as possible")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--count", type=int, help="number of records to send (valid + malformed)")
    g.add_argument("--duration", type=float, help="seconds to run")
    p.add_argument("--sensors", type=int, default=10)
    p.add_argument("--late-fraction", type=float, default=0.0,
                   help="fraction of events sent with an older ts; half a few seconds old, half "
                        "--late-delay-ms or more old (late for the job)")
    p.add_argument("--late-delay-ms", type=int, default=60000,
                   help="minimum age of a 'severe' late event (default 60000)")
    p.add_argument("--anomaly-fraction", type=float, default=0.0, help="fraction of events with a temperature spike")
    p.add_argument("--malformed-fraction", type=float, default=0.0,
                   help="fraction of records that are invalid JSON / miss a field / have a wrong type / are empty")
    p.add_argument("--manifest", help="write a JSON manifest of what was sent to this path at the end")
    p.add_argument("--seed", type=int)
    p.add_argument("--quiet", action="store_true", help="no progress lines (the summary is still printed)")
    p.add_argument("--progress-interval", type=float, default=1.0, help="seconds between progress lines")
    p.add_argument("--start-ts", type=int, help="epoch ms of the first event (default: now)")
    p.add_argument("--event-interval-ms", type=int,
                   help="event-time spacing of consecutive events of one sensor "
                        "(default 1000/rate*sensors, or 100 when --rate 0)")
    p.add_argument("--final-watermark", action="store_true",
                   help="after the data, send one __watermark__ sentinel per partition with ts = last ts + "
                        "--final-watermark-ahead, so that the job's last windows fire (with --count 0: only the "
                        "sentinels, ts = --start-ts or now + ahead)")
    p.add_argument("--final-watermark-ahead", type=float, default=60.0,
                   help="seconds of event time the sentinel is ahead of the newest event (default 60; must "
                        "exceed window + out-of-orderness + allowed lateness of the job)")
    p.add_argument("--connect-timeout", type=float, default=10.0, help="seconds to wait for the broker at start")
    p.add_argument("--flush-timeout", type=float, default=60.0, help="seconds to wait for the final flush")
    p.add_argument("--payload-file",
                   help="write the values of --count records to this file, one per line, instead of sending them "
                        "(the payloads of Kafka's ProducerPerformance in `pipeline bench`)")
    kafka_security.add_arguments(p)
    a = p.parse_args(argv)
    if kafka_security.problem(a):
        p.error(kafka_security.problem(a))
    if a.sensors < 1:
        p.error("--sensors must be >= 1")
    if a.rate < 0:
        p.error("--rate must be >= 0")
    if a.count is not None and a.count < 0:
        p.error("--count must be >= 0")
    for name in ("late_fraction", "anomaly_fraction", "malformed_fraction"):
        if not 0.0 <= getattr(a, name) <= 1.0:
            p.error(f"--{name.replace('_', '-')} must be within [0, 1]")
    if a.payload_file and a.count is None:
        p.error("--payload-file needs --count")
    if a.event_interval_ms is None:
        a.event_interval_ms = default_event_interval_ms(a.rate, a.sensors)
    return a


def write_payloads(a: argparse.Namespace) -> int:
    """The values the generator would send, one per line (a JSON event never contains a raw line break)."""
    fleet = SensorFleet(
        sensors=a.sensors, seed=a.seed, start_ts=a.start_ts, event_interval_ms=a.event_interval_ms,
        late_fraction=a.late_fraction, anomaly_fraction=a.anomaly_fraction,
        malformed_fraction=a.malformed_fraction, late_delay_ms=a.late_delay_ms,
    )
    with open(a.payload_file, "wb") as f:
        f.write(b"\n".join(fleet.next_record()[1] for _ in range(a.count)))
        f.write(b"\n")
    print(f"wrote {a.count} payloads to {a.payload_file}")
    return 0


def producer_config(bootstrap: str) -> dict:
    return {
        "bootstrap.servers": bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 20,
        "batch.size": 1_000_000,
        "batch.num.messages": 100_000,
        "queue.buffering.max.messages": 2_000_000,
        "queue.buffering.max.kbytes": 262_144,  # caps the send buffer at 256 MB
        "compression.type": "lz4",
        "partitioner": "murmur2_random",  # same key -> partition mapping as the Java client and kafkajs
        "message.max.bytes": 4_194_304,
        "delivery.report.only.error": True,
        "socket.connection.setup.timeout.ms": 10_000,
        "client.id": "sensor-data-generator",
        "log_level": 0,  # librdkafka retries connections silently; failures are reported by this script
    }


def main(argv=None) -> int:
    a = parse_args(argv)
    if a.payload_file:
        return write_payloads(a)
    from confluent_kafka import KafkaException, Producer  # imported here so unit tests need no broker

    out = sys.stdout
    stop = {"flag": False, "sig": None}

    def on_signal(signum, _frame):
        stop["flag"] = True
        stop["sig"] = signum

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    errors = {"n": 0, "first": None}  # only failed deliveries call back (delivery.report.only.error)

    def on_delivery(err, msg):
        if err is not None:
            errors["n"] += 1
            if errors["first"] is None:
                errors["first"] = str(err)

    conf = producer_config(a.bootstrap_servers)
    try:
        conf.update(kafka_security.librdkafka_config(a))
    except kafka_security.SecurityError as e:
        print(f"error: {e}.", file=sys.stderr)
        return 2
    conf["on_delivery"] = on_delivery
    # Connection errors are retried; a bounded check below reports them, an untrusted certificate by name.
    connection_errors = []
    conf["error_cb"] = lambda err: connection_errors.append(str(err))
    producer = Producer(conf)
    try:
        md = producer.list_topics(timeout=a.connect_timeout)
    except KafkaException as e:
        producer.poll(0)  # serves error_cb
        untrusted = next(filter(None, (kafka_security.untrusted_certificate(a.bootstrap_servers, a, m)
                                       for m in connection_errors)), None)
        print(f"error: {untrusted}." if untrusted else
              f"error: Kafka broker at {a.bootstrap_servers} is unreachable ({e.args[0]}).", file=sys.stderr)
        return 2
    if not md.brokers:
        print(f"error: Kafka broker at {a.bootstrap_servers} is unreachable.", file=sys.stderr)
        return 2
    if a.topic not in md.topics:
        print(f"warning: topic {a.topic} does not exist yet; relying on broker auto-creation", file=sys.stderr)
    return run(a, producer, errors, stop, out)


def run(a: argparse.Namespace, producer, errors: dict, stop: dict, out=None) -> int:
    """Produce records until --count/--duration/stop; `producer` is a confluent_kafka.Producer (or a fake
    with produce/poll/flush/list_topics); `errors` is updated by its delivery callback."""
    out = out or sys.stdout
    fleet = SensorFleet(
        sensors=a.sensors, seed=a.seed, start_ts=a.start_ts, event_interval_ms=a.event_interval_ms,
        late_fraction=a.late_fraction, anomaly_fraction=a.anomaly_fraction,
        malformed_fraction=a.malformed_fraction, late_delay_ms=a.late_delay_ms,
    )
    man = Manifest(run_id=fleet.run_id, topic=a.topic)
    if not a.quiet:
        print(f"generator run {fleet.run_id}: topic={a.topic} sensors={a.sensors} rate="
              f"{'max' if a.rate == 0 else a.rate}/s start_ts={fleet.start_ts} "
              f"event_interval_ms={fleet.interval}", file=out, flush=True)

    produce = producer.produce
    poll = producer.poll
    topic = a.topic
    next_record = fleet.next_record
    sent = 0
    kinds = {}
    t_start = time.monotonic()
    deadline = t_start + a.duration if a.duration is not None else None
    limit = a.count
    next_progress = t_start + a.progress_interval
    last_progress_t, last_progress_n = t_start, 0
    rate = a.rate
    batch = 1000 if rate == 0 else max(1, min(1000, int(rate / 50) or 1))
    while not stop["flag"]:
        n = batch if limit is None else min(batch, limit - sent)
        if n <= 0:
            break
        for _ in range(n):
            key, value, kind = next_record()
            while True:
                try:
                    produce(topic, value, key)
                    break
                except BufferError:
                    poll(0.05)
            kinds[kind] = kinds.get(kind, 0) + 1
        sent += n
        poll(0)
        now = time.monotonic()
        if rate > 0:
            ahead = sent / rate - (now - t_start)
            if ahead > 0:
                time.sleep(min(ahead, 0.5))
                now = time.monotonic()
        if deadline is not None and now >= deadline:
            break
        if now >= next_progress:
            if not a.quiet:
                r = (sent - last_progress_n) / (now - last_progress_t)
                print(f"sent={sent} rate={r:.0f}/s errors={errors['n']}", file=out, flush=True)
            last_progress_t, last_progress_n = now, sent
            next_progress = now + a.progress_interval

    # tally what was generated (by kind) into the manifest
    for kind, c in kinds.items():
        if kind.startswith("malformed:"):
            man.malformed += c
            k = kind.split(":", 1)[1]
            man.malformed_by_kind[k] = man.malformed_by_kind.get(k, 0) + c
            continue
        man.valid_events += c
        if "anomaly" in kind:
            man.anomalies += c
        if kind.endswith("+late"):
            man.late += c
        elif kind.endswith("+late_severe"):
            man.late += c
            man.late_severe += c
    for st in fleet.states:
        if st.seq:
            man.sensors[st.sid] = {"events": st.seq, "first_seq": 0, "last_seq": st.seq - 1}
    man.min_ts = fleet.start_ts if fleet.max_ts is not None else None
    man.max_ts = fleet.max_ts

    if a.final_watermark and not stop["flag"]:
        try:
            md = producer.list_topics(topic, timeout=a.connect_timeout)
            parts = sorted(md.topics[topic].partitions)
        except Exception as e:  # noqa: BLE001
            print(f"error: could not read partitions of {topic}: {e}", file=sys.stderr)
            parts = []
        # after the newest event; with --count 0, after --start-ts (default now): a sentinel-only run
        wm_ts = (fleet.max_ts if fleet.max_ts is not None else fleet.start_ts) + int(a.final_watermark_ahead * 1000)
        for p in parts:
            k, v = make_sentinel(fleet.run_id, p, wm_ts)
            produce(topic, v, k, partition=p, headers=[CONTROL_HEADER])
        man.sentinels = len(parts)

    remaining = producer.flush(a.flush_timeout)
    elapsed = time.monotonic() - t_start
    total = man.valid_events + man.malformed
    failed = errors["n"] + remaining
    summary = man.to_dict(
        errors=failed,
        first_error=errors["first"],
        unflushed=remaining,
        elapsed_s=round(elapsed, 3),
        rate_per_s=round(total / elapsed, 1) if elapsed > 0 else None,
        interrupted=stop["flag"],
        start_ts=fleet.start_ts,
        event_interval_ms=fleet.interval,
    )
    if a.manifest:
        d = os.path.dirname(os.path.abspath(a.manifest))
        os.makedirs(d, exist_ok=True)
        tmp = a.manifest + ".tmp"
        with open(tmp, "w") as f:
            json.dump(summary, f, indent=2)
        os.replace(tmp, a.manifest)
    print(
        f"done: sent={total - failed} valid={man.valid_events} malformed={man.malformed} late={man.late} "
        f"anomalies={man.anomalies} sentinels={man.sentinels} errors={failed} "
        f"elapsed={elapsed:.2f}s rate={summary['rate_per_s']}/s",
        file=out, flush=True,
    )
    if failed:
        print(f"error: {failed} record(s) were not delivered (first error: {errors['first'] or 'flush timeout'}).",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
