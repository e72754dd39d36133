import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { dirname, join } from 'node:path';
import { expectationOfTopic, readCommitted } from '../../src/cli/chaos/oracleSources';
import { windowKey } from '../../src/cli/chaos/oracle';
import { fetchJobsOverview } from '../../src/flink/flinkRest';
import { KafkaAdminClient } from '../../src/kafka/kafkaAdmin';
import { parseBootstrapServers } from '../../src/kafka/kafkaClient';
import { pollUntil } from '../../src/local/proc';
import { isLoopback, listeningSockets } from '../../src/local/sockets';
import { spawn } from 'node:child_process';
import { fetchClusterOverview } from '../../src/flink/flinkRest';
import { LAB_ALERTS_TOPIC } from '../../src/flink/labTables';
import { GatewayError, SqlGatewayClient } from '../../src/flink/sqlGatewayClient';
import { SqlRun } from '../../src/flink/sqlRun';
import { LabSqlSession } from '../../src/flink/sqlSession';
import { splitStatements } from '../../src/flink/sqlStatements';
import { clusterRestUrl, LocalFlinkCluster } from '../../src/local/flinkCluster';
import { LOCAL_SESSION_PROPERTIES, readGatewayCredentials, sqlGatewayUrl } from '../../src/local/sqlGateway';
import { cliPath, pipeline, requireEnv, tempWorkspace, type CliRun } from '../support/cli';

interface SqlRow {
  op: '+I' | '-U' | '+U' | '-D';
  [column: string]: unknown;
}

/** The rows of `--json` output folded by hand: +I/+U add, -U/-D take one equal row away. */
function fold(stdout: string): Record<string, unknown>[] {
  const rows: string[] = [];
  for (const line of stdout.split('\n').filter(Boolean)) {
    const { op, ...fields } = JSON.parse(line) as SqlRow;
    const key = JSON.stringify(fields);
    if (op === '+I' || op === '+U') rows.push(key);
    else rows.splice(rows.indexOf(key), 1);
  }
  return rows.map((r) => JSON.parse(r) as Record<string, unknown>);
}

/** A request as a web page could send it: no client certificate, `text/plain` (no CORS preflight), another origin. */
function attack(url: string): Promise<{ status?: number; body?: string; error?: string }> {
  const u = new URL(url);
  const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const req = send(
      u,
      {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain', Origin: 'http://evil.example' },
        rejectUnauthorized: false,
        timeout: 5000,
      },
      (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ error: e.message }));
    req.end('{"properties":{}}');
  });
}

/**
 * `pipeline sql` on the real session cluster and Flink's SQL Gateway, over a topic the generator filled: the lab
 * tables give what the topic holds (checked against the test's own reading of the topic), a windowed query gives what
 * the pipeline job committed for the same events, and no request without the workspace's certificate runs anything.
 */
describe('Flink SQL through the SQL Gateway (real Flink cluster and gateway, real Kafka)', function () {
  this.timeout(900_000);
  let workspace: string;
  let bootstrap: string;
  let topic: string;
  const ok = (run: CliRun) => assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
  const cli = (args: string[], timeoutMs = 300_000) => pipeline([...args, '--workspace', workspace], { timeoutMs });
  const sql = (statement: string, extra: string[] = []) =>
    cli(['sql', statement, '--topic', topic, '--bootstrap-servers', bootstrap, ...extra]);
  const COUNT = 3000;

  before(async () => {
    bootstrap = requireEnv('PIPELINE_BOOTSTRAP');
    workspace = tempWorkspace('flink-sql');
    topic = `it-sql-${Date.now().toString(36)}`;
    ok(await cli(['topic', 'create', topic, '--partitions', '3', '--bootstrap-servers', bootstrap]));
    ok(
      await cli([
        'generate',
        ...['--rate', '5000', '--count', String(COUNT), '--seed', '7', '--malformed-fraction', '0.02'],
        ...['--topic', topic, '--bootstrap-servers', bootstrap, '--final-watermark'],
      ]),
    );
    ok(await cli(['flink', 'up', '--taskmanagers', '2']));
  });

  after(async () => {
    await cli(['job', 'stop']);
    await cli(['flink', 'down']);
  });

  it('a bounded GROUP BY over the topic counts each sensor’s good events, as read from the topic itself', async () => {
    const expectation = await expectationOfTopic(bootstrap, topic, 10_000);
    const want = new Map<string, number>();
    for (const [key, n] of expectation.perKey) want.set(key.split('@')[0], (want.get(key.split('@')[0]) ?? 0) + n);
    const run = await sql('SELECT sensor_id, COUNT(*) AS n FROM sensor_data GROUP BY sensor_id', ['--bounded', '--json']);
    ok(run);
    const got = new Map(fold(run.stdout).map((r) => [r.sensor_id as string, Number(r.n)]));
    assert.deepEqual([...got].sort(), [...want].sort());
    assert.ok(expectation.malformed > 0, 'the topic has malformed records, which sensor_data leaves out');
    assert.match(run.stdout, /"op":"-U"/, 'a streaming aggregate retracts its earlier counts');
  });

  it('kafka_partition and kafka_offset name the record: they agree with the topic’s own offsets', async () => {
    const run = await sql(
      'SELECT kafka_partition, MIN(kafka_offset) AS lo, MAX(kafka_offset) AS hi, COUNT(*) AS n FROM sensor_data GROUP BY kafka_partition',
      ['--bounded', '--json'],
    );
    ok(run);
    const admin = new KafkaAdminClient({ bootstrapServers: parseBootstrapServers(bootstrap) }, 15_000);
    try {
      const offsets = await admin.fetchPartitionOffsets(topic);
      for (const r of fold(run.stdout)) {
        const p = offsets.find((o) => o.partition === r.kafka_partition)!;
        assert.ok(
          Number(r.lo) >= p.low && Number(r.hi) < p.high,
          `partition ${p.partition}: ${JSON.stringify(r)} within ${p.low}–${p.high}`,
        );
        // The peeked record at MAX(kafka_offset) is an event whose id the table has at that offset.
        const {
          records: [record],
        } = await admin.peek({ topic, partition: p.partition, start: { kind: 'offset', offset: Number(r.hi) }, count: 1 });
        const eventId = (JSON.parse(record.value!.toString()) as { event_id: string }).event_id;
        const at = await sql(`SELECT event_id FROM sensor_data WHERE kafka_partition = ${p.partition} AND kafka_offset = ${r.hi}`, [
          '--bounded',
          '--json',
        ]);
        assert.deepEqual(fold(at.stdout), [{ event_id: eventId }]);
      }
    } finally {
      await admin.close();
    }
  });

  it('a windowed query over sensor_data equals what the pipeline job committed for the same events, and the aggregates table reads those files', async () => {
    const output = join(workspace, 'output', topic);
    ok(
      await cli([
        'job',
        'start',
        '--detach',
        ...['--flink', 'local-cluster', '--topic', topic, '--output', output, '--group-id', `g-${topic}`],
        ...['--checkpoint-interval', '2', '--window', '10', '--bootstrap-servers', bootstrap],
      ]),
    );
    const expectation = await expectationOfTopic(bootstrap, topic, 10_000);
    const committed = await pollUntil(
      async () => {
        const c = readCommitted(output, 10_000);
        const total = [...c.csv.values()].reduce((a, b) => a + b, 0);
        return total === COUNT - expectation.malformed ? c : undefined;
      },
      240_000,
      2000,
    );
    assert.ok(committed, `the job committed every good event to ${output}`);
    ok(await cli(['job', 'stop']));
    const windowed = await sql(
      `SET 'table.local-time-zone' = 'UTC';
SELECT sensor_id, window_start, COUNT(*) AS n
FROM TABLE(TUMBLE(TABLE sensor_data, DESCRIPTOR(event_time), INTERVAL '10' SECOND))
GROUP BY sensor_id, window_start, window_end`,
      ['--bounded', '--json'],
    );
    ok(windowed);
    const fromSql = new Map(
      fold(windowed.stdout).map((r) => [windowKey(r.sensor_id as string, Date.parse(`${String(r.window_start)}Z`), 10_000), Number(r.n)]),
    );
    assert.deepEqual([...fromSql].sort(), [...committed.csv].sort());
    const files = await sql('SELECT sensor_id, window_start, event_count FROM aggregates', ['--bounded', '--json', '--output', output]);
    ok(files);
    const fromFiles = new Map(
      fold(files.stdout).map((r) => [
        windowKey(r.sensor_id as string, Date.parse(r.window_start as string), 10_000),
        Number(r.event_count),
      ]),
    );
    assert.deepEqual([...fromFiles].sort(), [...committed.csv].sort());
  });

  it('a wrong column is reported at its line and column in the file, with Flink’s sentence and no stack trace', async () => {
    const file = join(workspace, 'wrong.sql');
    writeFileSync(
      file,
      "SET 'table.local-time-zone' = 'UTC';\n\n-- the second statement\nSELECT sensor_id,\n       temprature\nFROM sensor_data;\n",
    );
    const run = await cli(['sql', '--file', file, '--topic', topic, '--bootstrap-servers', bootstrap, '--bounded']);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:5:8: Column 'temprature' not found`));
    assert.doesNotMatch(run.stderr, /\tat org\.apache|Exception/);
  });

  it('INSERT INTO sensor_data is refused with a sentence, before anything runs, and the topic is unchanged', async () => {
    const admin = new KafkaAdminClient({ bootstrapServers: parseBootstrapServers(bootstrap) }, 15_000);
    try {
      const before = await admin.fetchPartitionOffsets(topic);
      const run = await sql("INSERT INTO sensor_data SELECT * FROM sensor_data WHERE sensor_id = 'x'");
      assert.equal(run.code, 1);
      assert.match(run.stderr, /sensor_data is one of the lab's read-only tables/);
      assert.deepEqual(await admin.fetchPartitionOffsets(topic), before);
    } finally {
      await admin.close();
    }
  });

  it('an unbounded SELECT stopped at --limit leaves no job running: closing the operation cancels it', async () => {
    const run = await sql('SELECT event_id, sensor_id, kafka_offset FROM sensor_data', ['--limit', '5', '--json']);
    ok(run);
    assert.equal(run.stdout.trim().split('\n').length, 5);
    const rest = clusterRestUrl();
    const settled = await pollUntil(
      async () => ((await fetchJobsOverview(rest)).some((j) => j.state === 'RUNNING' || j.state === 'CANCELLING') ? undefined : true),
      60_000,
      500,
    );
    assert.ok(settled, `a job still runs: ${JSON.stringify(await fetchJobsOverview(rest))}`);
    assert.ok(
      (await fetchJobsOverview(rest)).some((j) => j.state === 'CANCELED'),
      'the statement’s job was cancelled',
    );
  });

  it('a statement that finds every task slot taken says so in words, with the fix', async () => {
    const rest = clusterRestUrl();
    const { slotsTotal } = await fetchClusterOverview(rest, 5000);
    /** A `pipeline sql` of its own; a live SELECT from the latest offset of a topic nobody writes holds its slot until stopped. */
    const start = () => {
      const child = spawn(
        process.execPath,
        [
          cliPath,
          'sql',
          'SELECT * FROM sensor_data',
          '--from',
          'latest',
          '--topic',
          topic,
          '--bootstrap-servers',
          bootstrap,
          '--workspace',
          workspace,
        ],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.on('data', (c) => (stderr += c));
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      return { child, exited, stderr: () => stderr };
    };
    const holders = Array.from({ length: slotsTotal }, start);
    try {
      const full = await pollUntil(
        async () => ((await fetchClusterOverview(rest, 2000)).slotsAvailable === 0 ? true : undefined),
        120_000,
        500,
      );
      assert.ok(full, `the ${slotsTotal} statements took every slot`);
      const waiting = start();
      holders.push(waiting);
      const said = await pollUntil(async () => (/No free task slot/.test(waiting.stderr()) ? waiting.stderr() : undefined), 60_000, 500);
      assert.ok(said, `no word of the missing slot: ${waiting.stderr()}`);
      assert.match(said, new RegExp(`all ${slotsTotal} slots of the local Flink cluster are taken[\\s\\S]*pipeline flink up --slots`));
    } finally {
      for (const h of holders) h.child.kill('SIGINT');
      await Promise.all(holders.map((h) => h.exited));
    }
    const freed = await pollUntil(
      async () => ((await fetchClusterOverview(rest, 2000)).slotsAvailable === slotsTotal ? true : undefined),
      60_000,
      500,
    );
    assert.ok(freed, 'stopping the statements (Ctrl-C) cancelled their jobs and freed every slot');
  });

  /** The editor's path, in this process: a lab session on the local gateway with its certificate, as SqlWorkbench opens it. */
  const editorSession = () =>
    new LabSqlSession(
      new SqlGatewayClient(sqlGatewayUrl(), readGatewayCredentials(new LocalFlinkCluster(workspace))),
      {
        topic,
        alertsTopic: LAB_ALERTS_TOPIC,
        bootstrapServers: bootstrap,
        aggregatesDir: join(workspace, 'output', 'aggregates'),
        groupId: 'it-sql-editor',
      },
      LOCAL_SESSION_PROPERTIES,
    );

  it('a statement that fails at run time ends its run as failed with Flink’s root cause, and the whole answer, stack trace included, is kept for the panel', async () => {
    const session = editorSession();
    try {
      const [statement] = splitStatements('SELECT CAST(sensor_id AS INT) AS n FROM sensor_data;');
      const run = new SqlRun(session, statement, { from: 'earliest' });
      await run.start();
      const { state, problem, jobId } = run.summary();
      assert.equal(state, 'failed', JSON.stringify(run.summary()));
      assert.match(problem?.message ?? '', /NumberFormatException: For input string: 'sensor-\d+'/);
      assert.ok(jobId, 'it failed in a job that ran, not at planning');
      assert.match(run.errorDetails ?? '', /\tat org\.apache\.flink\./, 'the stack trace is there for "Show the whole error"');
    } finally {
      await session.close();
    }
  });

  it('an INSERT’s job runs on after its statement ends, is listed by the session (SHOW JOBS) and stopped through it (STOP JOB)', async () => {
    const session = editorSession();
    const rest = clusterRestUrl();
    try {
      const run = async (text: string) => {
        const r = new SqlRun(session, splitStatements(text)[0], { from: 'earliest' });
        await r.start();
        assert.equal(r.summary().state, 'finished', JSON.stringify(r.summary()));
        return r.summary();
      };
      await run("CREATE TEMPORARY TABLE hot_readings (sensor_id STRING, temperature DOUBLE) WITH ('connector' = 'blackhole');");
      const { kind, jobId } = await run('INSERT INTO hot_readings SELECT sensor_id, temperature FROM sensor_data WHERE temperature > 30;');
      assert.equal(kind, 'insert');
      assert.ok(jobId);
      const listed = await pollUntil(
        async () => (await session.jobs()).find((j) => j.id === jobId && j.status === 'RUNNING'),
        60_000,
        1000,
      );
      assert.ok(listed, `SHOW JOBS does not list ${jobId} RUNNING: ${JSON.stringify(await session.jobs())}`);
      assert.equal((await fetchJobsOverview(rest)).find((j) => j.jid === jobId)?.state, 'RUNNING', 'the REST API agrees');
      const status = JSON.parse((await cli(['job', 'status', '--json'])).stdout) as { state: string };
      assert.notEqual(status.state, 'running', 'an INSERT’s job on the cluster is not the pipeline job');
      await session.stopJob(jobId);
      const canceled = await pollUntil(
        async () => ((await fetchJobsOverview(rest)).find((j) => j.jid === jobId)?.state === 'CANCELED' ? true : undefined),
        60_000,
        500,
      );
      assert.ok(canceled, `job ${jobId} is not CANCELED after STOP JOB: ${JSON.stringify(await fetchJobsOverview(rest))}`);
    } finally {
      await session.close();
    }
  });

  it('a window whose extension host is killed (no deactivate) leaves no job running: its window guard cancels the INSERT’s job and closes the session', async () => {
    const session = editorSession();
    const rest = clusterRestUrl();
    const run = async (text: string) => {
      const r = new SqlRun(session, splitStatements(text)[0], { from: 'earliest' });
      await r.start();
      assert.equal(r.summary().state, 'finished', JSON.stringify(r.summary()));
      return r.summary();
    };
    await run("CREATE TEMPORARY TABLE guarded (sensor_id STRING) WITH ('connector' = 'blackhole');");
    const { jobId } = await run('INSERT INTO guarded SELECT sensor_id FROM sensor_data;');
    assert.ok(jobId);
    const handle = session.sessionHandle;
    assert.ok(handle);
    // The extension host's stand-in: it forks the guard as the editor does, tells it the window's state, then is killed.
    const guardScript = join(dirname(cliPath), 'windowGuard.js');
    const state = { gateway: sqlGatewayUrl(), local: true, workspace, session: handle, restUrl: rest, jobs: [jobId] };
    const host = spawn(
      process.execPath,
      [
        '-e',
        `const c = require('node:child_process').fork(${JSON.stringify(guardScript)}, [], { detached: true, stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
         c.send({ kind: 'state', state: ${JSON.stringify(state)} }, () => console.log('guard ' + c.pid));
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const guardPid = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the host stand-in never started its guard')), 15_000);
      host.stdout.on('data', (chunk: Buffer) => {
        const pid = /guard (\d+)/.exec(chunk.toString())?.[1];
        if (pid) {
          clearTimeout(timer);
          resolve(Number(pid));
        }
      });
    });
    assert.equal((await fetchJobsOverview(rest)).find((j) => j.jid === jobId)?.state, 'RUNNING', 'the INSERT runs before the kill');
    host.kill('SIGKILL');
    const canceled = await pollUntil(
      async () => ((await fetchJobsOverview(rest)).find((j) => j.jid === jobId)?.state === 'CANCELED' ? true : undefined),
      30_000,
      500,
    );
    assert.ok(canceled, `job ${jobId} is not CANCELED after its host was killed: ${JSON.stringify(await fetchJobsOverview(rest))}`);
    const client = new SqlGatewayClient(sqlGatewayUrl(), readGatewayCredentials(new LocalFlinkCluster(workspace)));
    const gone = await pollUntil(
      () =>
        client.heartbeat(handle).then(
          () => undefined,
          (error: unknown) => (error instanceof GatewayError && error.sessionGone ? true : undefined),
        ),
      15_000,
      500,
    );
    assert.ok(gone, `the session ${handle} is still open after the guard's clean-up`);
    const ended = await pollUntil(async () => (existsSync(`/proc/${guardPid}`) ? undefined : true), 25_000, 250);
    assert.ok(ended, `the guard (pid ${guardPid}) did not end after its clean-up`);
    const log = readFileSync(join(workspace, '.pipeline', 'logs', 'window-guard.log'), 'utf8');
    assert.match(log, new RegExp(`cancelled job ${jobId}`));
    assert.match(log, new RegExp(`closed session ${handle}`));
  });

  it('the gateway listens on loopback only, and refuses a web page’s text/plain POST and any request without the certificate, on every port it opens', async () => {
    const status = JSON.parse((await cli(['flink', 'status', '--json'])).stdout) as { sqlGateway: { pid: number; state: string } };
    assert.equal(status.sqlGateway.state, 'up');
    const sockets = listeningSockets([status.sqlGateway.pid]);
    assert.ok(
      sockets.some((s) => s.port === 8083),
      JSON.stringify(sockets),
    );
    assert.deepEqual(
      sockets.filter((s) => !isLoopback(s.address)),
      [],
      'nothing listens beyond 127.0.0.1',
    );
    const log = () => readFileSync(join(workspace, '.pipeline/flink-cluster/log/sql-gateway.out'), 'utf8');
    const opened = () => (log().match(/Session [0-9a-f-]{36} is opened/g) ?? []).length;
    const before = opened();
    for (const s of sockets) {
      for (const scheme of ['http', 'https']) {
        for (const path of ['/v1/sessions', '/v4/sessions', '/sessions']) {
          const answer = await attack(`${scheme}://127.0.0.1:${s.port}${path}`);
          assert.ok(
            answer.error !== undefined || (answer.status !== undefined && (answer.status < 200 || answer.status >= 300)),
            `${scheme}://…:${s.port}${path}: ${JSON.stringify(answer)}`,
          );
          assert.doesNotMatch(answer.body ?? '', /sessionHandle/);
        }
      }
    }
    assert.equal(opened(), before, 'no session was opened by any of them');
    // The same POST with the workspace's certificate does open one: the refusals above are the certificate's doing.
    ok(await sql('SELECT 1 AS x', ['--json']));
    assert.ok(opened() > before);
  });
});
