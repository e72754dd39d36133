#!/usr/bin/env python3
"""Records the start-up class archive (AppCDS) of a Flink runtime that `pipeline setup` prepared.

A job start spends most of its seconds loading and first running classes: the SQL planner, the MiniCluster, the
operators. This rehearses one start in a JVM that writes every class it loaded into `<runtime>/start-up.jsa` when
it exits; later JVMs of the same Java with the same class path map that archive instead of loading those classes
one by one. The rehearsal needs no broker: it plans the real job (Kafka tables included) and runs the same
statement set once over a small file of generated events, then exits the JVM.

  python startup_archive.py --runtime-dir DIR

Exit 0 when the archive was written.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

import flink_job as fj
from data_generator import SensorFleet

START_UP_FAILED = "start-up.failed"


def exit_gateway_jvm(timeout: float) -> None:
    """System.exit in PyFlink's gateway JVM (the archive is written as it exits), then wait for the process."""
    from pyflink.java_gateway import get_gateway

    jvms = fj.gateway_processes()
    try:
        get_gateway().jvm.java.lang.System.exit(0)
    except Exception:  # noqa: BLE001 - the gateway's connection closes under the call
        pass
    for jvm in jvms:
        jvm.wait(timeout)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Record the start-up class archive of a prepared Flink runtime.")
    p.add_argument("--runtime-dir", required=True)
    p.add_argument("--events", type=int, default=2000)
    a = p.parse_args(argv)
    runtime = os.path.abspath(a.runtime_dir)
    archive = os.path.join(runtime, fj.START_UP_ARCHIVE)
    # Written under a temporary name and renamed into place whole: a job starting meanwhile either finds no
    # archive (and starts without it) or the complete one, never one the JVM is still writing.
    partial = f"{archive}.tmp-{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="kfl-start-up-") as tmp:
        os.environ["FLINK_LOG_DIR"] = tmp
        # -Xlog:cds=error: the JVM lists every class it cannot archive (generated ones, old bytecode) as a warning.
        os.environ["JVM_ARGS"] = f"{fj.JVM_DEFAULTS} -Djava.io.tmpdir={tmp} -Xlog:cds=error"
        fj.use_runtime(runtime, record_archive_to=partial)
        events = os.path.join(tmp, "events.jsonl")
        fleet = SensorFleet(sensors=10, seed=1, start_ts=1_764_064_800_000, malformed_fraction=0.01,
                            anomaly_fraction=0.01)
        with open(events, "wb") as f:
            f.write(b"".join(fleet.next_record()[1] + b"\n" for _ in range(a.events)))
        args = fj.parse_args(["--topic", "start-up-rehearsal", "--output", os.path.join(tmp, "output"),
                              "--state-dir", os.path.join(tmp, "state"), "--rest-port", "0",
                              "--connector-jar", "-", "--job-lib-jar", "-", "--runtime-dir", runtime,
                              "--checkpoint-interval", "1"])
        # The real job's plan, Kafka tables and all (planning connects to nothing).
        fj.build_job(args, None).explain()
        # The same statement set over the file, run to its end on a MiniCluster.
        source = (f"CREATE TEMPORARY TABLE kafka_src ({fj.sensor_columns_ddl(args)}, "
                  "`partition` AS CAST(0 AS INT), `offset` AS CAST(0 AS BIGINT), "
                  "`headers` AS CAST(NULL AS MAP<STRING, BYTES>)) "
                  f"WITH ('connector' = 'filesystem', 'path' = {fj.sql_str(events)}, 'format' = 'sensor-json')")
        alerts = ("CREATE TEMPORARY TABLE alerts_kafka (" + ", ".join(f"`{c}` {t}" for c, t in fj.ALERT_COLUMNS)
                  + ") WITH ('connector' = 'blackhole')")
        fj.build_job(args, None, source=source, alerts_sink=alerts).execute().wait()
        exit_gateway_jvm(timeout=120)
    if not os.path.exists(partial):
        print(f"error: the JVM wrote no class archive to {partial}", file=sys.stderr)
        return 1
    os.replace(partial, archive)
    print(f"start-up archive: {archive} ({os.path.getsize(archive) // (1024 * 1024)} MB)")
    return 0


def run(argv=None) -> int:
    """main(), and on failure a `start-up.failed` note beside the runtime's jars, so that the recording is not
    tried again at every start (a JVM that cannot archive these classes will not do better next time)."""
    failure = None
    try:
        code = main(argv)
    except Exception as error:  # noqa: BLE001 - whatever broke the rehearsal is the note's content
        code, failure = 1, f"{type(error).__name__}: {error}"
    if code != 0:
        runtime = argparse.ArgumentParser(add_help=False)
        runtime.add_argument("--runtime-dir")
        known, _ = runtime.parse_known_args(argv)
        if known.runtime_dir:
            partial = os.path.join(known.runtime_dir, f"{fj.START_UP_ARCHIVE}.tmp-{os.getpid()}")
            if os.path.exists(partial):
                os.remove(partial)
            with open(os.path.join(known.runtime_dir, START_UP_FAILED), "w") as f:
                f.write(failure or "the JVM wrote no class archive; see the output above")
        if failure:
            print(f"error: {failure}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(run())
