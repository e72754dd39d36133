import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { committedTotal } from '../../src/cli/chaos/oracle';
import { expectationOfTopic, judge, readCommitted } from '../../src/cli/chaos/oracleSources';
import { clusterPorts, clusterRestUrl } from '../../src/local/flinkCluster';
import { fetchJobDetail, fetchJobsOverview } from '../../src/flink/flinkRest';
import { subtaskRows } from '../../src/flink/flinkOperators';
import { FlinkSnapshotReader } from '../../src/flink/flinkSnapshot';
import { isPortFree } from '../../src/local/ports';
import { isAlive, pollUntil, sleep } from '../../src/local/proc';
import { isLoopback, listeningSockets } from '../../src/local/sockets';
import { pipeline, requireEnv, tempWorkspace, type CliRun } from '../support/cli';

const REST = clusterRestUrl();

function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => !/^\s+at /.test(l))
      .slice(-lines)
      .join('\n');
  } catch {
    return '(none)';
  }
}
const PORTS = clusterPorts();

interface ClusterStatus {
  state: string;
  processes: { name: string; pid?: number; running: boolean }[];
  taskManagers: { id: string; slotsTotal: number; slotsFree: number }[];
}

/**
 * The local session cluster of `pipeline flink up` with the real Flink distribution PyFlink installs and the broker
 * the test runner started: the job submitted to it counts every event exactly once, also across a lost
 * TaskManager, a stop with a savepoint and a replay. "Exactly once" is judged by the test's own oracle: the input topic
 * read from its start, per sensor and window, against the committed files; `pipeline verify` must agree with it.
 */
describe('Flink session cluster (real Flink JobManager and TaskManagers, real Kafka)', function () {
  this.timeout(1_800_000);
  let workspace: string;
  let bootstrap: string;
  const ok = (run: CliRun) => assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
  const cli = (args: string[], timeoutMs = 300_000) => pipeline([...args, '--workspace', workspace], { timeoutMs });
  const status = async () => JSON.parse((await cli(['flink', 'status', '--json'])).stdout) as ClusterStatus;

  async function newTopic(name: string): Promise<string> {
    const topic = `${name}-${Date.now().toString(36)}`;
    ok(await cli(['topic', 'create', topic, '--partitions', '3', '--bootstrap-servers', bootstrap]));
    return topic;
  }

  function startJob(topic: string, output: string, extra: string[] = []) {
    return cli([
      'job',
      'start',
      '--detach',
      '--flink',
      'local-cluster',
      '--topic',
      topic,
      '--output',
      output,
      '--group-id',
      `g-${topic}`,
      '--checkpoint-interval',
      '2',
      '--window',
      '10',
      '--bootstrap-servers',
      bootstrap,
      ...extra,
    ]);
  }

  function generate(topic: string, count: number, seed: number) {
    return cli(
      [
        'generate',
        '--rate',
        '5000',
        '--count',
        String(count),
        '--seed',
        String(seed),
        '--topic',
        topic,
        '--bootstrap-servers',
        bootstrap,
        '--final-watermark',
      ],
      600_000,
    );
  }

  async function verify(
    output: string,
    expected?: number,
  ): Promise<{ ok: boolean; eventCountSum: number; deadLetterRows: number; duplicateWindowCount: number; csvJsonMismatch: number }> {
    const run = await cli(['verify', '--output', output, '--json', ...(expected !== undefined ? ['--expected', String(expected)] : [])]);
    return { ...JSON.parse(run.stdout), ok: run.code === 0 };
  }

  /**
   * Waits until the committed files hold every event of the topic in both formats (the oracle), then checks that
   * nothing is doubled and that `pipeline verify` says the same.
   */
  async function waitCounted(topic: string, output: string, expected: number, windowSeconds = 10) {
    const expectation = await expectationOfTopic(bootstrap, topic, windowSeconds * 1000);
    assert.equal(expectation.records, expected, 'the topic holds what the generator sent');
    const counted = await pollUntil(
      async () => {
        const r = judge(expectation, output);
        return r.csv.lost === 0 && r.json.lost === 0 ? true : undefined;
      },
      240_000,
      2000,
    );
    assert.ok(
      counted,
      `${output} is short of the topic: ${judge(expectation, output).notes.join('; ')}\n--- the job's log:\n${tail(join(workspace, '.pipeline/flink/job.log'))}\n--- flink status:\n${(await cli(['flink', 'status'])).stdout}`,
    );
    await sleep(3000); // a commit under way would double
    const oracle = judge(expectation, output);
    assert.deepEqual([oracle.events, oracle.lost, oracle.duplicated], [expected, 0, 0], oracle.notes.join('; '));
    const report = await verify(output, expected);
    assert.ok(report.ok, `pipeline verify disagrees with the oracle: ${JSON.stringify(report)}`);
    assert.equal(report.eventCountSum + report.deadLetterRows, oracle.committed);
    assert.equal(report.duplicateWindowCount, 0);
    assert.equal(report.csvJsonMismatch, 0);
  }

  const committed = async (output: string) => committedTotal(readCommitted(output, 10_000));

  before(async () => {
    bootstrap = requireEnv('PIPELINE_BOOTSTRAP');
    workspace = tempWorkspace('flink-cluster');
    ok(await cli(['flink', 'up', '--taskmanagers', '2']));
  });

  after(async () => {
    await cli(['job', 'stop']);
    await cli(['flink', 'down']);
  });

  it('runs a JobManager and two TaskManagers as their own JVMs, every listening socket on loopback', async () => {
    const s = await status();
    assert.equal(s.state, 'up');
    assert.deepEqual(
      s.taskManagers.map((t) => [t.id, t.slotsTotal]),
      [
        ['taskmanager-1', 2],
        ['taskmanager-2', 2],
      ],
    );
    const pids = s.processes.map((p) => p.pid!);
    assert.equal(new Set(pids).size, 3, 'three processes');
    const sockets = listeningSockets(pids);
    assert.ok(
      sockets.some((x) => x.port === PORTS.rest),
      `the REST port is among them: ${JSON.stringify(sockets)}`,
    );
    assert.ok(sockets.filter((x) => pids.slice(1).includes(x.pid)).length >= 4, 'the TaskManagers listen too (RPC, data)');
    assert.deepEqual(
      sockets.filter((x) => !isLoopback(x.address)),
      [],
      'nothing listens beyond 127.0.0.1',
    );
  });

  it('counts 100,000 events exactly once while a TaskManager is SIGKILLed mid-run', async () => {
    const topic = await newTopic('it-cluster');
    const output = join(workspace, 'output', topic);
    ok(await startJob(topic, output));
    const generator = generate(topic, 100_000, 21);
    assert.ok(
      await pollUntil(async () => ((await committed(output)) > 0 ? true : undefined), 180_000, 1000),
      'rows committed before the kill',
    );
    // The TaskManager that holds the job's slot (resource ids are taskmanager-N, like the processes).
    const busy = (await status()).taskManagers.find((t) => t.slotsFree < t.slotsTotal)!;
    const victim = (await status()).processes.find((p) => p.name === busy.id)!;
    const jobId = (await fetchJobsOverview(REST)).find((j) => j.state === 'RUNNING')!.jid;
    const killedAt = Date.now();
    process.kill(victim.pid!, 'SIGKILL');
    await pollUntil(async () => ((await fetchJobDetail(REST, jobId)).state !== 'RUNNING' ? true : undefined), 60_000, 200);
    const recovered = await pollUntil(
      async () => {
        const job = await fetchJobDetail(REST, jobId).catch(() => undefined);
        return job?.state === 'RUNNING' && job.vertices.every((v) => v.status === 'RUNNING') ? Date.now() : undefined;
      },
      180_000,
      200,
    );
    assert.ok(recovered, 'the job runs again on the other TaskManager');
    console.log(`      TaskManager ${busy.id} SIGKILLed: the job ran again after ${((recovered - killedAt) / 1000).toFixed(1)} s`);
    ok(await generator);
    await waitCounted(topic, output, 100_000);
    assert.equal(isAlive(victim.pid!), false);
    ok(await cli(['job', 'stop']));
  });

  it('the JobManager gone: job status says so in one line, and flink up brings the cluster and the job back', async () => {
    const topic = await newTopic('it-jm-loss');
    const output = join(workspace, 'output', topic);
    ok(await startJob(topic, output));
    const generator = generate(topic, 40_000, 23);
    assert.ok(
      await pollUntil(async () => ((await committed(output)) > 0 ? true : undefined), 180_000, 1000),
      'rows committed before the kill',
    );
    const jobManager = (await status()).processes.find((p) => p.name === 'jobmanager')!;
    process.kill(jobManager.pid!, 'SIGKILL');
    const said = await pollUntil(
      async () => {
        const run = await cli(['job', 'status']);
        return /does not answer/.test(run.stdout) ? run : undefined;
      },
      60_000,
      1000,
    );
    assert.ok(said, 'job status tells that the JobManager is gone');
    assert.equal(said.stdout.trim().split('\n').length, 1, said.stdout);
    assert.match(said.stdout, /pipeline flink up/);
    ok(await cli(['flink', 'up', '--taskmanagers', '2']));
    assert.ok(
      await pollUntil(async () => ((await cli(['job', 'status'])).code === 0 ? true : undefined), 180_000, 1000),
      'the job runs again',
    );
    assert.match(readFileSync(join(workspace, '.pipeline/flink/job.log'), 'utf8'), /submitting the job again from .*chk-\d+/);
    ok(await generator);
    await waitCounted(topic, output, 40_000);
    ok(await cli(['job', 'stop']));
  });

  it('stops with a savepoint mid-run and resumes from it; every event counted once over the whole input', async () => {
    const topic = await newTopic('it-savepoint');
    const output = join(workspace, 'output', topic);
    ok(await startJob(topic, output));
    const generator = generate(topic, 60_000, 22);
    assert.ok(await pollUntil(async () => ((await committed(output)) > 0 ? true : undefined), 180_000, 1000));
    const stop = await cli(['job', 'stop', '--savepoint']);
    ok(stop);
    const savepoint = /savepoint: (\S+) \(/.exec(stop.stdout)?.[1];
    assert.ok(savepoint && readdirSync(savepoint).includes('_metadata'), stop.stdout);
    await sleep(3000); // events keep arriving while the job is stopped
    const restart = await startJob(topic, output, ['--from-savepoint', 'latest']);
    ok(restart);
    assert.match(readFileSync(join(workspace, '.pipeline/flink/job.log'), 'utf8'), new RegExp(`restoring from savepoint ${savepoint}`));
    ok(await generator);
    await waitCounted(topic, output, 60_000);

    // Replay the same history from the earliest offset into a new folder with 5-second windows.
    const replay = await cli([
      'job',
      'replay',
      '--from',
      'earliest',
      '--window',
      '5',
      '--detach',
      '--flink',
      'local-cluster',
      '--topic',
      topic,
      '--group-id',
      `g-${topic}`,
      '--checkpoint-interval',
      '2',
      '--bootstrap-servers',
      bootstrap,
    ]);
    ok(replay);
    const replayed = /Replaying into (\S+)\./.exec(replay.stderr + replay.stdout)?.[1];
    assert.ok(replayed && replayed.includes(join('output', 'runs')), replay.stderr);
    await waitCounted(topic, replayed, 60_000, 5);
    await waitCounted(topic, output, 60_000);
    const query = await cli([
      'query',
      'SELECT DISTINCT epoch(window_end::TIMESTAMP) - epoch(window_start::TIMESTAMP) AS seconds FROM aggregates',
      '--output',
      replayed,
      '--json',
    ]);
    ok(query);
    assert.deepEqual(JSON.parse(query.stdout).rows, [[5]]);
    ok(await cli(['job', 'stop']));
  });

  it('at parallelism 3 each of 3 partitions is read by a subtask of its own, per Flink’s metrics; at 4 one subtask is idle; more subtasks than free slots are refused in words', async () => {
    const rest = clusterRestUrl();
    /** The partitions each source subtask reads, from Flink's own per-subtask metric names (the test's reading, not the product's). */
    const fromRest = async (): Promise<number[][] | undefined> => {
      const jobs = ((await (await fetch(`${rest}/jobs/overview`)).json()) as { jobs: { jid: string; state: string; name: string }[] }).jobs;
      const job = jobs.find((j) => j.state === 'RUNNING' && j.name.startsWith('sensor-pipeline['));
      if (!job) return undefined;
      const detail = (await (await fetch(`${rest}/jobs/${job.jid}`)).json()) as {
        vertices: { id: string; name: string; parallelism: number }[];
      };
      const source = detail.vertices.find((v) => v.name.startsWith('Source'))!;
      return Promise.all(
        Array.from({ length: source.parallelism }, async (_, i) => {
          const names = (
            (await (await fetch(`${rest}/jobs/${job.jid}/vertices/${source.id}/subtasks/${i}/metrics`)).json()) as { id: string }[]
          ).map((m) => m.id);
          return names
            .map((n) => /\.partition\.(\d+)\.currentOffset$/.exec(n)?.[1])
            .filter((p): p is string => p !== undefined)
            .map(Number)
            .sort();
        }),
      );
    };
    const reader = new FlinkSnapshotReader(rest);
    const shown = async () => {
      const snapshot = await reader.read();
      const byVertex = snapshot.job?.sourcePartitions ?? {};
      return Object.values(byVertex)[0]?.map((parts) => parts.map((p) => p.partition));
    };

    for (const parallelism of [3, 4]) {
      const topic = await newTopic(`it-parallel${parallelism}`);
      const output = join(workspace, 'output', topic);
      const started = await startJob(topic, output, ['--parallelism', String(parallelism)]);
      ok(started);
      ok(await generate(topic, 3000, parallelism));
      const split = await pollUntil(
        async () => {
          const r = await fromRest();
          return r && r.length === parallelism && r.flat().length === 3 ? r : undefined;
        },
        90_000,
        1000,
      );
      assert.ok(split, `the ${parallelism} source subtasks do not read the 3 partitions: ${JSON.stringify(await fromRest())}`);
      assert.deepEqual(split.flat().sort(), [0, 1, 2], 'each partition read once');
      assert.ok(
        split.every((parts) => parts.length <= 1),
        `no subtask reads two partitions: ${JSON.stringify(split)}`,
      );
      assert.equal(split.filter((parts) => parts.length === 0).length, parallelism - 3, 'idle subtasks: parallelism − partitions');
      // The Flink view's reading, and its rows, say the same.
      const view = await pollUntil(async () => ((await shown())?.flat().length === 3 ? await shown() : undefined), 30_000, 1000);
      assert.deepEqual(view, split);
      const rows = subtaskRows(
        'j',
        'v',
        view!.map((parts) => parts.map((partition) => ({ topic, partition }))),
      );
      assert.deepEqual(
        rows.map((r) => r.description),
        split.map((parts) => (parts.length ? `reads partition ${parts[0]} of ${topic}` : 'idle: no partition to read')),
      );
      ok(await cli(['job', 'stop']));
    }

    const topic = await newTopic('it-parallel5');
    const refused = await startJob(topic, join(workspace, 'output', topic), ['--parallelism', '5']);
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    assert.match(
      refused.stderr,
      /needs 5 free task slots, but the Flink cluster at http:\/\/127\.0\.0\.1:8081 has 4 of 4 free\. Lower the parallelism .*pipeline flink up --slots 3/,
    );
  });

  it('flink down stops every process and frees every port', async () => {
    const pids = (await status()).processes.filter((p) => p.running).map((p) => p.pid!);
    ok(await cli(['job', 'stop']));
    ok(await cli(['flink', 'down']));
    assert.deepEqual(
      pids.filter((pid) => isAlive(pid)),
      [],
    );
    for (const port of [PORTS.rest, PORTS.rpc, PORTS.blob]) assert.ok(await isPortFree(port), `port ${port} is free`);
    assert.equal((await status()).state, 'down');
  });
});
