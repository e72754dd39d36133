#!/usr/bin/env python3
"""PyFlink job: Kafka sensor events -> validated, event-time windowed aggregates, alerts and dead-letter.

Runs a local Flink MiniCluster inside PyFlink's gateway JVM (`python flink_job.py ...`). All per-record work
is in the JVM: Flink SQL plus the job's small Java library (job-lib/: the `sensor-json` format and the
`pipeline-files` sink); Python only builds the plan and watches the job.

Dataflow (one Flink job, one statement set, one Kafka source shared by every sink):

  Kafka (+ partition/offset metadata) -> format sensor-json: each record parsed once into typed columns,
      a parse error and its raw bytes; per-partition watermark on the event's `ts`
    -> SQL: a record is good, or goes to dead-letter with the parse error or `late` (behind the watermark)
         - good events  -> TUMBLE window per sensor -> aggregates/*.csv (CSV with header)
                                                     -> aggregates/*.jsonl
         - good events above the threshold -> alerts/*.jsonl + Kafka topic (transactional sink)
         - everything else -> dead-letter/*.jsonl {"raw","error","partition","offset"}

Files become visible only when a checkpoint completes (exactly-once); in-progress files start with a dot.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import signal
import socket
import sys
import threading
import time
import urllib.request

import kafka_security

# A control record (the generator's final watermark) carries this Kafka header; a record without it is data,
# whatever its sensor_id.
CONTROL_HEADER = "pipeline-control"
DEFAULT_ANOMALY_THRESHOLD = 50.0
RAW_MAX_CHARS = 1000  # dead-letter keeps at most this many characters of a record
DEFAULT_MAX_RECORD_CHARS = 65536  # longer values are rejected as oversized without being parsed

AGG_COLUMNS = [
    ("sensor_id", "STRING"),
    ("window_start", "STRING"),
    ("window_end", "STRING"),
    ("event_count", "BIGINT"),
    ("avg_temperature", "DOUBLE"),
    ("min_temperature", "DOUBLE"),
    ("max_temperature", "DOUBLE"),
    ("avg_humidity", "DOUBLE"),
    ("anomaly_count", "BIGINT"),
]
ISO_FMT = "yyyy-MM-dd''T''HH:mm:ss.SSS''Z''"


def eprint(*a):
    print(*a, file=sys.stderr, flush=True)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="PyFlink sensor job: Kafka -> windowed aggregates, alerts, dead-letter.")
    p.add_argument("--bootstrap-servers", default="127.0.0.1:9092")
    p.add_argument("--topic", default="sensor-data")
    p.add_argument("--output", default="./output", help="output folder (default ./output)")
    p.add_argument("--window", type=int, default=10, help="tumbling window size in seconds (default 10)")
    p.add_argument("--checkpoint-interval", type=float, default=10.0, help="seconds (default 10)")
    p.add_argument("--group-id", default="flink-sensor-processor")
    p.add_argument("--alerts-topic", default="sensor-alerts")
    p.add_argument("--out-of-orderness", type=float, default=5.0,
                   help="watermark delay in seconds behind the newest event time of each partition (default 5)")
    p.add_argument("--allowed-lateness", type=float, default=0.0,
                   help="extra seconds a window waits for late events; added to the watermark delay, so a "
                        "window is emitted once, after out-of-orderness + allowed-lateness (default 0). Events "
                        "behind the watermark go to dead-letter with error 'late'")
    p.add_argument("--idle-timeout", type=float, default=30.0,
                   help="seconds after which a partition without records stops holding the watermark back "
                        "(default 30; 0 disables)")
    p.add_argument("--connector-jar", default=os.environ.get("PIPELINE_CONNECTOR_JAR"),
                   help="flink-sql-connector-kafka jar (default: env PIPELINE_CONNECTOR_JAR)")
    p.add_argument("--job-lib-jar", default=os.environ.get("PIPELINE_JOB_LIB_JAR"),
                   help="the job's Java library, built from job-lib/ by `pipeline setup` (default: env "
                        "PIPELINE_JOB_LIB_JAR)")
    p.add_argument("--runtime-dir", default=os.environ.get("PIPELINE_FLINK_RUNTIME"),
                   help="a Flink runtime prepared by `pipeline setup`: lib/ with Flink, the planner, the connector and "
                        "the job library on the JVM's class path, and a start-up class archive (default: env "
                        "PIPELINE_FLINK_RUNTIME; without it the jars are shipped with the job and start-up is slower)")
    p.add_argument("--state-dir", help="checkpoint folder (default .pipeline/flink/<topic>)")
    p.add_argument("--savepoint-dir",
                   help="folder of this job's savepoints (stop with savepoint writes them there); the job starts "
                        "from the newest of its checkpoints and these savepoints (default: none)")
    p.add_argument("--rest-port", type=int, default=8081, help="Flink REST/Web UI port on 127.0.0.1 (default 8081)")
    p.add_argument("--parallelism", type=int, default=1)
    p.add_argument("--anomaly-threshold", type=float, default=DEFAULT_ANOMALY_THRESHOLD,
                   help="an event whose temperature is above this (°C) is an anomaly (default 50)")
    p.add_argument("--max-record-chars", type=int, default=DEFAULT_MAX_RECORD_CHARS,
                   help="records longer than this are dead-lettered as oversized (default 65536)")
    p.add_argument("--future-tolerance", type=float, default=86400.0,
                   help="seconds an event time may be ahead of now; later ones go to dead-letter as 'future "
                        "timestamp' and never move the watermark (default 86400: one day)")
    p.add_argument("--progress-interval", type=float, default=10.0, help="seconds between progress lines")
    p.add_argument("--no-restore", action="store_true", help="ignore checkpoints in --state-dir")
    p.add_argument("--from-savepoint", help="start from this savepoint (a folder with _metadata) instead of the "
                                            "latest checkpoint")
    p.add_argument("--flink", help="REST address of a Flink session cluster to run on (e.g. http://127.0.0.1:8081); "
                                   "default: an embedded MiniCluster in this process")
    p.add_argument("--ship-jars", action="store_true",
                   help="with --flink: send the connector and the job library with the job (a cluster whose lib/ "
                        "does not hold them; the local cluster of `pipeline flink up` does)")
    p.add_argument("--connect-timeout", type=float, default=10.0)
    kafka_security.add_arguments(p)
    a = p.parse_args(argv)
    if kafka_security.problem(a):
        p.error(kafka_security.problem(a))
    if a.window <= 0:
        p.error("--window must be > 0")
    if a.checkpoint_interval <= 0:
        p.error("--checkpoint-interval must be > 0")
    if a.parallelism < 1:
        p.error("--parallelism must be >= 1")
    if a.flink:
        from urllib.parse import urlparse

        url = urlparse(a.flink)
        if url.scheme not in ("http", "https") or not url.hostname:
            p.error(f"--flink must be a REST address like http://127.0.0.1:8081, not {a.flink!r}")
        a.flink = a.flink.rstrip("/")
    if a.from_savepoint:
        a.from_savepoint = os.path.abspath(a.from_savepoint)
    if a.state_dir is None:
        a.state_dir = os.path.join(".pipeline", "flink", a.topic)
    a.state_dir = os.path.abspath(a.state_dir)
    a.output = os.path.abspath(a.output)
    return a


# ---------------------------------------------------------------------------------------------------------
# SQL (pure functions: unit-testable without Flink)
# ---------------------------------------------------------------------------------------------------------


def sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def interval_ms(ms: int) -> str:
    """SQL interval literal of a duration in milliseconds (DAY TO SECOND, so any size up to 99 days)."""
    ms = int(ms)
    d, rem = divmod(ms, 86_400_000)
    h, rem = divmod(rem, 3_600_000)
    m, rem = divmod(rem, 60_000)
    sec, milli = divmod(rem, 1000)
    return f"INTERVAL '{d} {h:02d}:{m:02d}:{sec:02d}.{milli:03d}' DAY TO SECOND(3)"


VALUE_COLUMNS = [
    ("event_id", "STRING"), ("sensor_id", "STRING"), ("ts", "BIGINT"), ("temperature", "DOUBLE"),
    ("humidity", "DOUBLE"), ("pressure", "DOUBLE"), ("battery", "DOUBLE"), ("seq", "BIGINT"),
    ("parse_error", "STRING"), ("raw", "BYTES"),
]


def with_options(opts: dict) -> str:
    return ",\n  ".join(f"{sql_str(k)} = {sql_str(v)}" for k, v in opts.items())


def sensor_columns_ddl(a) -> str:
    """The columns the `sensor-json` format fills from one parse of the record, and the event time with its
    watermark. A record that failed to parse has ts NULL, so its event time is epoch 0: it never moves the
    watermark."""
    delay_ms = int(round((a.out_of_orderness + a.allowed_lateness) * 1000))
    cols = ",\n  ".join(f"`{c}` {t}" for c, t in VALUE_COLUMNS)
    return f"""{cols},
  rowtime AS TO_TIMESTAMP_LTZ(COALESCE(ts, 0), 3),
  WATERMARK FOR rowtime AS rowtime - {interval_ms(delay_ms)}"""


def kafka_security_options(a) -> dict:
    """The `properties.security.protocol` / `properties.sasl.*` options of a secured cluster, for the Kafka source
    and the alerts sink (none for plaintext); the password from the environment or a 0600 file (kafka_security.py)."""
    return kafka_security.flink_kafka_options(a)


def source_ddl(a) -> str:
    """Kafka source: each record value parsed once by the `sensor-json` format (the job's Java library) into typed
    columns, a parse error and the raw bytes, plus partition/offset; a per-partition watermark on the event's `ts`."""
    opts = {
        "connector": "kafka",
        "topic": a.topic,
        "properties.bootstrap.servers": a.bootstrap_servers,
        "properties.group.id": a.group_id,
        "properties.auto.offset.reset": "earliest",
        "scan.startup.mode": "group-offsets",
        "properties.client.id.prefix": a.group_id,
        "value.format": "sensor-json",
        "value.sensor-json.max-record-chars": str(int(a.max_record_chars)),
        "value.sensor-json.future-tolerance-ms": str(int(a.future_tolerance * 1000)),
    }
    if a.idle_timeout and a.idle_timeout > 0:
        opts["scan.watermark.idle-timeout"] = f"{int(a.idle_timeout * 1000)} ms"
    opts.update(kafka_security_options(a))
    return f"""
CREATE TEMPORARY TABLE kafka_src (
  {sensor_columns_ddl(a)},
  `partition` INT METADATA VIRTUAL,
  `offset` BIGINT METADATA VIRTUAL,
  `headers` MAP<STRING, BYTES> METADATA VIRTUAL
) WITH (
  {with_options(opts)}
)"""


LATE = "(rowtime <= CURRENT_WATERMARK(rowtime)) IS TRUE"
CONTROL = f"`headers`[{sql_str(CONTROL_HEADER)}] IS NOT NULL"


def good_events_sql(late_expr: str = LATE, control_expr: str = CONTROL) -> str:
    """Records that parsed and are not behind the watermark, except control records (which only move event time)."""
    return (f"SELECT event_id, sensor_id, ts, temperature, humidity, rowtime FROM kafka_src "
            f"WHERE parse_error IS NULL AND NOT ({late_expr}) AND NOT ({control_expr})")


def dead_letter_sql(late_expr: str = LATE, control_expr: str = CONTROL) -> str:
    """Every other data record: its text (at most RAW_MAX_CHARS characters), its exact bytes as base64 when the text
    cannot show them (not UTF-8), the reason (the format's parse error, else `late`), partition and offset. Exactly the
    complement of good_events_sql among the data records: the watermark is read once, in the filter, and the bytes are
    decoded only here."""
    trunc = (f"CASE WHEN CHAR_LENGTH(raw_text) > {RAW_MAX_CHARS} THEN ' (raw truncated to {RAW_MAX_CHARS} of ' || "
             "CAST(CHAR_LENGTH(raw_text) AS STRING) || ' chars)' ELSE '' END")
    return f"""
SELECT
  CASE WHEN CHAR_LENGTH(raw_text) > {RAW_MAX_CHARS} THEN SUBSTRING(raw_text, 1, {RAW_MAX_CHARS}) ELSE raw_text END AS `raw`,
  CASE WHEN ENCODE(raw_text, 'UTF-8') <> `raw` THEN TO_BASE64(`raw`) END AS raw_base64,
  error || {trunc} AS error,
  `partition`, `offset`
FROM (
  SELECT DECODE(`raw`, 'UTF-8') AS raw_text, `raw`, COALESCE(parse_error, 'late') AS error, `partition`, `offset`
  FROM kafka_src
  WHERE NOT ({control_expr}) AND (parse_error IS NOT NULL OR ({late_expr}))
)"""


def aggregates_sql(a) -> str:
    thr = repr(float(a.anomaly_threshold))
    return f"""
SELECT
  sensor_id,
  DATE_FORMAT(window_start, '{ISO_FMT}') AS window_start,
  DATE_FORMAT(window_end, '{ISO_FMT}') AS window_end,
  COUNT(*) AS event_count,
  AVG(temperature) AS avg_temperature,
  MIN(temperature) AS min_temperature,
  MAX(temperature) AS max_temperature,
  AVG(humidity) AS avg_humidity,
  CAST(SUM(CASE WHEN temperature > {thr} THEN 1 ELSE 0 END) AS BIGINT) AS anomaly_count
FROM TABLE(TUMBLE(TABLE good_events, DESCRIPTOR(rowtime), INTERVAL '{int(a.window)}' SECOND))
GROUP BY sensor_id, window_start, window_end"""


def alerts_sql(a) -> str:
    thr = repr(float(a.anomaly_threshold))
    return f"""
SELECT event_id, sensor_id, ts, temperature,
  'temperature ' || CAST(temperature AS STRING) || ' above threshold {thr}' AS reason
FROM good_events
WHERE temperature > {thr}"""


ALERT_COLUMNS = [("event_id", "STRING"), ("sensor_id", "STRING"), ("ts", "BIGINT"), ("temperature", "DOUBLE"),
                 ("reason", "STRING")]
DEAD_LETTER_COLUMNS = [("raw", "STRING"), ("raw_base64", "STRING"), ("error", "STRING"), ("partition", "INT"),
                       ("offset", "BIGINT")]


def files_sink_ddl(name: str, columns: list[tuple[str, str]], path: str, fmt: str, prefix: str) -> str:
    """An output folder of the job: the `pipeline-files` sink of the job's Java library writes CSV (with a header)
    or JSON lines and commits a file when the checkpoint covering it completes."""
    cols = ", ".join(f"`{c}` {t}" for c, t in columns)
    opts = {"connector": "pipeline-files", "path": path, "format": fmt, "file-prefix": prefix}
    return f"CREATE TEMPORARY TABLE {name} ({cols}) WITH (\n  {with_options(opts)}\n)"


def alerts_kafka_ddl(a) -> str:
    opts = {
        "connector": "kafka",
        "topic": a.alerts_topic,
        "properties.bootstrap.servers": a.bootstrap_servers,
        "key.format": "raw",
        "key.fields": "sensor_id",
        "value.format": "json",
        "value.fields-include": "ALL",
        "sink.delivery-guarantee": "exactly-once",
        "sink.transactional-id-prefix": f"{a.group_id}-{a.topic}-alerts",
        "properties.transaction.timeout.ms": "900000",
        "properties.max.request.size": str(4 * 1024 * 1024),
        **kafka_security_options(a),
    }
    cols = ", ".join(f"`{c}` {t}" for c, t in ALERT_COLUMNS)
    return f"""
CREATE TEMPORARY TABLE alerts_kafka ({cols}) WITH (
  {with_options(opts)}
)"""


def job_statements(a, source: str | None = None, alerts_sink: str | None = None) -> tuple[list[str], list[str]]:
    """The whole job as SQL: (DDL and views, INSERTs of one statement set). One Kafka source and one window
    operator feed every sink (the planner reuses shared sub-plans within a statement set). `source` and
    `alerts_sink` replace the Kafka tables' DDL (the start-up archive's rehearsal runs without a broker)."""
    out = a.output
    ddl = [
        source or source_ddl(a),
        f"CREATE TEMPORARY VIEW good_events AS {good_events_sql()}",
        f"CREATE TEMPORARY VIEW aggregates AS {aggregates_sql(a)}",
        f"CREATE TEMPORARY VIEW alerts AS {alerts_sql(a)}",
        files_sink_ddl("aggregates_csv", AGG_COLUMNS, os.path.join(out, "aggregates"), "csv", "aggregates"),
        files_sink_ddl("aggregates_jsonl", AGG_COLUMNS, os.path.join(out, "aggregates"), "jsonl", "aggregates"),
        files_sink_ddl("alerts_jsonl", ALERT_COLUMNS, os.path.join(out, "alerts"), "jsonl", "alerts"),
        files_sink_ddl("dead_letter_jsonl", DEAD_LETTER_COLUMNS, os.path.join(out, "dead-letter"), "jsonl",
                       "dead-letter"),
        alerts_sink or alerts_kafka_ddl(a),
    ]
    inserts = [
        "INSERT INTO aggregates_csv SELECT * FROM aggregates",
        "INSERT INTO aggregates_jsonl SELECT * FROM aggregates",
        "INSERT INTO alerts_jsonl SELECT * FROM alerts",
        "INSERT INTO alerts_kafka SELECT * FROM alerts",
        f"INSERT INTO dead_letter_jsonl {dead_letter_sql()}",
    ]
    return ddl, inserts


# ---------------------------------------------------------------------------------------------------------
# checkpoints
# ---------------------------------------------------------------------------------------------------------


def latest_checkpoint(state_dir: str) -> str | None:
    """Newest completed checkpoint (`<job-id>/chk-N` with a `_metadata` file) under state_dir."""
    best = None
    for meta in glob.glob(os.path.join(state_dir, "*", "chk-*", "_metadata")):
        try:
            key = (os.path.getmtime(meta), int(meta.split("chk-")[-1].split(os.sep)[0]))
        except (OSError, ValueError):
            continue
        if best is None or key > best[0]:
            best = (key, os.path.dirname(meta))
    return best[1] if best else None


def latest_restore_point(state_dir: str, savepoint_dir: str | None) -> str | None:
    """The newest of the completed checkpoints under state_dir and the savepoints (`savepoint-*` with a
    `_metadata` file) in savepoint_dir. After a stop with savepoint the savepoint is newer than the last checkpoint:
    the sinks committed up to it and the group's offsets point past it, so starting from the older checkpoint would
    emit its windows again."""
    best = None
    checkpoint = latest_checkpoint(state_dir)
    if checkpoint:
        best = (os.path.getmtime(os.path.join(checkpoint, "_metadata")), checkpoint)
    if savepoint_dir:
        for meta in glob.glob(os.path.join(savepoint_dir, "savepoint-*", "_metadata")):
            try:
                key = os.path.getmtime(meta)
            except OSError:
                continue
            if best is None or key > best[0]:
                best = (key, os.path.dirname(meta))
    return best[1] if best else None


def prune_old_jobs(state_dir: str, keep: str | None) -> None:
    """Remove checkpoint folders of earlier runs except the one holding `keep` (hashmap state backend: each
    chk-N folder is self-contained)."""
    import shutil

    keep_job = os.path.dirname(keep) if keep else None
    for d in glob.glob(os.path.join(state_dir, "*")):
        if os.path.isdir(d) and d != keep_job and len(os.path.basename(d)) == 32:
            shutil.rmtree(d, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------------
# pre-flight checks
# ---------------------------------------------------------------------------------------------------------


def port_holder(port: int) -> str:
    try:
        import subprocess

        out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True, timeout=5).stdout
        return out.strip().split("users:")[-1] if out.strip() else "another process"
    except Exception:  # noqa: BLE001
        return "another process"


def preflight(a) -> str | None:
    """Return one error sentence, or None."""
    if not a.connector_jar:
        return ("the Flink Kafka connector jar is not set: pass --connector-jar PATH or set "
                "PIPELINE_CONNECTOR_JAR.")
    if not os.path.isfile(a.connector_jar):
        return f"the Flink Kafka connector jar {a.connector_jar} does not exist."
    if a.runtime_dir and not os.path.isdir(os.path.join(a.runtime_dir, "lib")):
        return f"the Flink runtime {a.runtime_dir} has no lib/ folder: run `pipeline setup` again."
    if not a.job_lib_jar:
        return ("the job's Java library is not set: run `pipeline setup` (it builds flink-jobs/job-lib) and pass "
                "--job-lib-jar PATH or set PIPELINE_JOB_LIB_JAR.")
    if not os.path.isfile(a.job_lib_jar):
        return f"the job's Java library {a.job_lib_jar} does not exist: run `pipeline setup` to build it."
    if a.flink and not cluster_answers(a, a.connect_timeout):
        return f"the Flink cluster at {a.flink} does not answer: start it (`pipeline flink up`) or check the address."
    if a.from_savepoint and not os.path.isfile(os.path.join(a.from_savepoint, "_metadata")):
        return f"{a.from_savepoint} is not a savepoint (it has no _metadata file)."
    if a.flink:
        return kafka_preflight(a)
    s = socket.socket()
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", a.rest_port))
    except OSError:
        return f"port {a.rest_port} (Flink REST) on 127.0.0.1 is busy, held by {port_holder(a.rest_port)}."
    finally:
        s.close()
    return kafka_preflight(a)


def kafka_preflight(a) -> str | None:
    """The broker answers, the topic exists, the alerts topic exists (created when missing)."""
    try:
        from confluent_kafka import KafkaException
        from confluent_kafka.admin import AdminClient, NewTopic
    except ImportError:
        return None
    try:
        connection_errors = []
        admin = AdminClient({"bootstrap.servers": a.bootstrap_servers, "log_level": 0,
                             "error_cb": lambda err: connection_errors.append(str(err)),
                             **kafka_security.librdkafka_config(a)})
    except kafka_security.SecurityError as e:
        return str(e)
    try:
        md = admin.list_topics(timeout=a.connect_timeout)
    except KafkaException:
        admin.poll(0)  # serves error_cb
        untrusted = (kafka_security.untrusted_certificate(a.bootstrap_servers, a, m) for m in connection_errors)
        return next(filter(None, untrusted), None) or f"the Kafka broker at {a.bootstrap_servers} is unreachable."
    if a.topic not in md.topics:
        return f"topic {a.topic} does not exist on {a.bootstrap_servers}."
    if a.alerts_topic not in md.topics:
        try:
            for f in admin.create_topics([NewTopic(a.alerts_topic, 1, 1)]).values():
                f.result(timeout=a.connect_timeout)
        except Exception as e:  # noqa: BLE001
            if "TOPIC_ALREADY_EXISTS" not in str(e):
                return f"could not create the alerts topic {a.alerts_topic}: {e}"
    return None


# ---------------------------------------------------------------------------------------------------------
# job
# ---------------------------------------------------------------------------------------------------------


def cluster_configuration(a) -> dict[str, str]:
    """Where the job runs: a session cluster over REST (--flink), or the embedded MiniCluster, its REST API on
    127.0.0.1 only."""
    if a.flink:
        from urllib.parse import urlparse

        url = urlparse(a.flink)
        return {
            "execution.target": "remote",
            "rest.address": url.hostname,
            "rest.port": str(url.port or (443 if url.scheme == "https" else 80)),
            **({"security.ssl.rest.enabled": "true"} if url.scheme == "https" else {}),
            # a JobManager that is gone is noticed in seconds, not after minutes of retries
            "rest.retry.max-attempts": "2",
            "rest.retry.delay": "500 ms",
            "rest.await-leader-timeout": "5 s",
        }
    return embedded_configuration(a.rest_port)


def embedded_configuration(rest_port: int) -> dict[str, str]:
    """An embedded MiniCluster that only this machine's user can reach: its REST API on 127.0.0.1 and answering
    no other web origin, every other server on loopback too, no jar uploads. Shared with reference_job.py."""
    origin = f"http://127.0.0.1:{rest_port}"
    return {
        "rest.bind-address": "127.0.0.1",
        "rest.address": "127.0.0.1",
        "rest.port": str(rest_port),
        "rest.bind-port": str(rest_port),
        # Every other server of the MiniCluster (the blob server above all, which binds to every interface by
        # default) on loopback too; the web UI takes no jar uploads.
        "jobmanager.bind-host": "127.0.0.1",
        "jobmanager.rpc.address": "127.0.0.1",
        "taskmanager.bind-host": "127.0.0.1",
        "taskmanager.host": "127.0.0.1",
        "web.submit.enable": "false",
        # Flink answers every origin by default (`*`): any page open in the browser could read the job's ids,
        # plans and exceptions and stop it with a "simple" cross-origin POST. Only the server's own address may.
        "web.access-control-allow-origin": origin,
    }


def flink_configuration(a, restore_from: str | None) -> dict[str, str]:
    conf = {
        **cluster_configuration(a),
        "pipeline.name": f"sensor-pipeline[{a.topic}]",
        "parallelism.default": str(a.parallelism),
        "execution.checkpointing.interval": f"{int(a.checkpoint_interval * 1000)} ms",
        "execution.checkpointing.mode": "EXACTLY_ONCE",
        "execution.checkpointing.dir": "file://" + a.state_dir,
        "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
        "execution.checkpointing.num-retained": "2",
        "execution.checkpointing.min-pause": "500 ms",
        "execution.checkpointing.timeout": "5 min",
        "state.backend.type": "hashmap",
        "pipeline.object-reuse": "true",
        "metrics.fetcher.update-interval": "1000",
        # The REST API caches a job's state for this long (3 s by default): views of the job lag behind by it.
        "web.refresh-interval": "500",
        "table.local-time-zone": "UTC",
        "taskmanager.memory.managed.size": "32m",
        "taskmanager.memory.network.min": "32m",
        "taskmanager.memory.network.max": "32m",
        "restart-strategy.type": "fixed-delay",
        "restart-strategy.fixed-delay.attempts": "1000000",
        "restart-strategy.fixed-delay.delay": "5 s",
    }
    if not a.runtime_dir or a.ship_jars:
        # Without a prepared runtime (or for a cluster without them) the jars travel with the job (blob server).
        conf["pipeline.jars"] = ";".join("file://" + os.path.abspath(j) for j in (a.connector_jar, a.job_lib_jar))
    if restore_from:
        conf["execution.state-recovery.path"] = "file://" + restore_from
    return conf


START_UP_ARCHIVE = "start-up.jsa"
JVM_DEFAULTS = "-Xmx512m -XX:MaxMetaspaceSize=256m -XX:+UseSerialGC"


def use_runtime(runtime_dir: str | None, record_archive_to: str | None = None) -> None:
    """Points PyFlink's gateway JVM at a prepared runtime (before the gateway starts): its lib/ becomes the class
    path, and its class archive (AppCDS) is used when it exists, or recorded into `record_archive_to`. A JVM that
    cannot use the archive (another Java, changed jars) says so in its log and starts without it."""
    os.environ.setdefault("JVM_ARGS", JVM_DEFAULTS)
    # PyFlink starts a gRPC "loopback worker pool" for Python UDFs on [::]:0 (every interface, no authentication)
    # unless a worker mode is set. This job runs no Python per record, so it needs no such server.
    os.environ.setdefault("_python_worker_execution_mode", "process")
    if not runtime_dir:
        return
    import pyflink

    os.environ["FLINK_HOME"] = os.path.dirname(os.path.abspath(pyflink.__file__))
    os.environ["FLINK_LIB_DIR"] = os.path.join(runtime_dir, "lib")
    archive = os.path.join(runtime_dir, START_UP_ARCHIVE)
    if record_archive_to:
        os.environ["JVM_ARGS"] += f" -XX:ArchiveClassesAtExit={record_archive_to}"
    elif os.path.isfile(archive):
        os.environ["JVM_ARGS"] += f" -XX:SharedArchiveFile={archive}"


def build_job(a, restore_from: str | None, **overrides):
    """The job's statement set in a streaming TableEnvironment (embedded MiniCluster)."""
    from pyflink.common import Configuration
    from pyflink.table import EnvironmentSettings, TableEnvironment

    conf = Configuration()
    for k, v in flink_configuration(a, restore_from).items():
        conf.set_string(k, v)
    t_env = TableEnvironment.create(EnvironmentSettings.new_instance().in_streaming_mode().with_configuration(conf).build())
    ddl, inserts = job_statements(a, **overrides)
    for statement in ddl:
        t_env.execute_sql(statement)
    stmt = t_env.create_statement_set()
    for insert in inserts:
        stmt.add_insert_sql(insert)
    return stmt


# ---------------------------------------------------------------------------------------------------------
# REST progress
# ---------------------------------------------------------------------------------------------------------


def rest_url(a) -> str:
    """Where the job's Flink answers: the session cluster, or the embedded MiniCluster's REST port."""
    return a.flink or f"http://127.0.0.1:{a.rest_port}"


def rest_get(base: str, path: str, timeout: float = 3.0):
    with urllib.request.urlopen(f"{base}{path}", timeout=timeout) as r:
        return json.loads(r.read().decode())


def progress_line(base: str, job_id: str) -> str | None:
    try:
        job = rest_get(base, f"/jobs/{job_id}")
        cps = rest_get(base, f"/jobs/{job_id}/checkpoints")
    except Exception:  # noqa: BLE001
        return None
    read = 0
    for v in job.get("vertices", []):
        if v.get("name", "").startswith("Source"):
            read += v.get("metrics", {}).get("read-records", 0)
    c = cps.get("counts", {})
    latest = (cps.get("latest") or {}).get("completed") or {}
    return (f"job {job.get('state')}: records read={read} checkpoints completed={c.get('completed', 0)} "
            f"failed={c.get('failed', 0)} latest=chk-{latest.get('id', '-')}")


def gateway_processes() -> list:
    """PyFlink's gateway JVM(s) this process started and that still run (found among the live Popen objects)."""
    import gc
    import subprocess

    found = []
    for obj in gc.get_objects():
        try:
            if (isinstance(obj, subprocess.Popen) and obj.poll() is None
                    and "java" in os.path.basename(str(obj.args[0]))):
                found.append(obj)
        except Exception:  # noqa: BLE001
            continue
    return found


def drain_gateway_stderr(path: str) -> None:
    """PyFlink starts its gateway JVM with stderr=PIPE and never reads it; a chatty JVM would block once the
    pipe is full. Copy that pipe to a log file from a daemon thread."""
    for jvm in gateway_processes():
        if jvm.stderr is None:
            continue

        def pump(stream=jvm.stderr):
            with open(path, "ab", buffering=0) as f:
                for chunk in iter(lambda: stream.read1(65536), b""):
                    f.write(chunk)

        threading.Thread(target=pump, name="gateway-stderr", daemon=True).start()


TMP_OWNER = ".owner"


def process_start_time(pid: int) -> int | None:
    """Clock ticks since boot at which `pid` started (field 22 of /proc/<pid>/stat): with the pid, who it is."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    return int(stat[stat.rindex(")") + 2:].split()[19])


def private_tmp_dir(root: str) -> str:
    """A temp folder of this job under `root`, after removing those that jobs made and left behind.

    Flink unpacks jars (its RPC system, the table planner) into java.io.tmpdir and deletes them only on a clean
    JVM exit; a job stopped by a signal would leave about 30 MB in /tmp each time. A folder goes only when a job
    made it (its `.owner` file names the job's pid and start time) and that process is gone: a folder someone
    else put there, or one of a live job — even if its pid now names another program — stays.
    """
    os.makedirs(root, exist_ok=True)
    for name in os.listdir(root):
        path = os.path.join(root, name)
        if not name.isdigit() or os.path.islink(path) or not os.path.isdir(path):
            continue
        try:
            with open(os.path.join(path, TMP_OWNER)) as f:
                pid, started = (int(x) for x in f.read().split())
        except (OSError, ValueError):
            continue
        if pid == int(name) and process_start_time(pid) != started:
            shutil.rmtree(path, ignore_errors=True)
    mine = os.path.join(root, str(os.getpid()))
    os.makedirs(mine, exist_ok=True)
    with open(os.path.join(mine, TMP_OWNER), "w") as f:
        f.write(f"{os.getpid()} {process_start_time(os.getpid())}\n")
    return mine


def ended_from_outside(result) -> str | None:
    """How the job ended when it was ended over REST: "stopped with a savepoint" (a streaming job finishes only so)
    or "cancelled"; None while it runs or when it failed. `result` is the job's execution result future: the
    embedded MiniCluster shuts down as soon as its job ends, after which the job's status cannot be asked."""
    if not result.done():
        return None
    try:
        result.result()
    except Exception as e:  # noqa: BLE001
        return "cancelled" if "JobCancellationException" in str(e) or "CANCELED" in str(e) else None
    return "stopped with a savepoint"


def cluster_answers(a, timeout: float = 2) -> bool:
    try:
        rest_get(a.flink, "/overview", timeout=timeout)
        return True
    except Exception:  # noqa: BLE001
        return False


def main(argv=None) -> int:
    a = parse_args(argv)
    err = preflight(a)
    if err:
        eprint(f"error: {err}")
        return 2
    os.makedirs(a.state_dir, exist_ok=True)
    for sub in ("aggregates", "alerts", "dead-letter"):
        os.makedirs(os.path.join(a.output, sub), exist_ok=True)
    if a.from_savepoint:
        restore = a.from_savepoint
        print(f"restoring from savepoint {restore}", flush=True)
    else:
        restore = None if a.no_restore else latest_restore_point(a.state_dir, a.savepoint_dir)
        prune_old_jobs(a.state_dir, restore)
        if restore:
            print(f"restoring from {'savepoint' if os.path.basename(restore).startswith('savepoint-') else 'checkpoint'} "
                  f"{restore}", flush=True)
    os.environ.setdefault("FLINK_LOG_DIR", os.path.join(os.path.dirname(a.state_dir), "logs"))
    os.makedirs(os.environ["FLINK_LOG_DIR"], exist_ok=True)
    use_runtime(a.runtime_dir)
    tmp = private_tmp_dir(os.path.join(os.path.dirname(a.state_dir), "tmp"))
    os.environ["JVM_ARGS"] += f" -Djava.io.tmpdir={tmp}"
    os.environ["TMPDIR"] = tmp

    def submit(restore_from):
        client = build_job(a, restore_from).execute().get_job_client()
        where = f"on the cluster {a.flink}" if a.flink else f"http://127.0.0.1:{a.rest_port}"
        info = os.environ.get("PIPELINE_JOB_INFO")
        if info:  # which job on the cluster is this process's (a session cluster may run others)
            with open(info + ".tmp", "w") as f:
                json.dump({"jobId": str(client.get_job_id()), "restUrl": rest_url(a), "pid": os.getpid()}, f)
            os.replace(info + ".tmp", info)
        print(f"Flink job running: {where} (job {client.get_job_id()}; output {a.output}; checkpoints {a.state_dir})",
              flush=True)
        return client

    client = submit(restore)
    job_id = str(client.get_job_id())
    drain_gateway_stderr(os.path.join(os.environ["FLINK_LOG_DIR"], "gateway-stderr.log"))
    # Asked now, so that it completes when the job ends, before the MiniCluster shuts down with it.
    result = client.get_job_execution_result()

    stop = threading.Event()

    def on_signal(signum, _frame):
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    def ended_over_rest(how: str) -> int:
        # Stopped with a savepoint or cancelled over REST (the Flink view, the web UI): a wanted end, not a
        # failure; the next start restores from the newest checkpoint or savepoint.
        print(f"the Flink job was {how} from outside (REST API); it restores from there on the next start", flush=True)
        shutil.rmtree(tmp, ignore_errors=True)
        return 0

    next_progress = time.monotonic() + a.progress_interval
    while not stop.is_set():
        stop.wait(1.0)
        how = ended_from_outside(result)
        if how:
            return ended_over_rest(how)
        try:
            status = client.get_job_status().result().name
        except Exception as e:  # noqa: BLE001
            from py4j.protocol import Py4JJavaError

            # A Java exception is the REST client's (the cluster does not answer); anything else is our own JVM.
            if not a.flink or not isinstance(e, Py4JJavaError):
                eprint(f"error: lost the Flink job: {e}")
                return 1
            # A session cluster's JobManager is gone: wait for it (`pipeline flink up`), then resume the job.
            print(f"the JobManager at {a.flink} does not answer: waiting for the cluster to come back "
                  "(`pipeline flink up`); the job then resumes from its last checkpoint", flush=True)
            while not stop.is_set() and not cluster_answers(a):
                stop.wait(2.0)
            if stop.is_set():
                break
            try:
                known = rest_get(a.flink, f"/jobs/{job_id}")["state"] not in ("FAILED", "CANCELED", "FINISHED")
            except Exception:  # noqa: BLE001
                known = False
            if not known:
                checkpoint = latest_restore_point(a.state_dir, a.savepoint_dir)
                print(f"the cluster is back: submitting the job again from {checkpoint or 'the committed offsets'}",
                      flush=True)
                client = submit(checkpoint)
                job_id = str(client.get_job_id())
                result = client.get_job_execution_result()
            continue
        # The status can tell that end before the execution result does (a streaming job finishes only when stopped).
        how = {"FINISHED": "stopped with a savepoint", "CANCELED": "cancelled"}.get(status)
        if how:
            return ended_over_rest(how)
        if status == "FAILED":
            eprint(f"error: the Flink job failed; see logs in {os.environ['FLINK_LOG_DIR']}")
            return 1
        if time.monotonic() >= next_progress:
            line = progress_line(rest_url(a), job_id)
            if line:
                print(line, flush=True)
            next_progress = time.monotonic() + a.progress_interval
    print("stopping: cancelling the Flink job (its last completed checkpoint is kept for the next start)",
          flush=True)
    try:
        client.cancel().result()
    except Exception as e:  # noqa: BLE001
        eprint(f"warning: cancel failed: {e}")
    print("stopped", flush=True)
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
