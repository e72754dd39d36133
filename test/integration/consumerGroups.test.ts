import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { AssignerProtocol, Kafka, logLevel } from 'kafkajs';
import { pollUntil } from '../../src/local/proc';
import { cliPath, pipeline, requireEnv, tempWorkspace } from '../support/cli';

/** A `pipeline consume` member as a user runs it: its own process, its stdout kept. */
function member(args: string[]) {
  const child = spawn(process.execPath, [cliPath, 'consume', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

/**
 * Plain group members (`pipeline consume`) on the real broker. What the group looks like is read with kafkajs' own
 * admin client and the consumer protocol's decoder, not through the product's tree model.
 */
describe('consumer groups, live: pipeline consume members splitting a topic (real broker)', function () {
  this.timeout(300_000);
  let bootstrap: string;
  let workspace: string;
  let topic: string;
  const group = `it-lab-consumers-${Date.now().toString(36)}`;
  let admin: ReturnType<Kafka['admin']>;
  const members: ReturnType<typeof member>[] = [];

  /** Each member's partitions of the topic, as the coordinator describes the group. */
  async function split(): Promise<{ state: string; owned: number[][] }> {
    const { groups } = await admin.describeGroups([group]);
    const g = groups[0];
    const owned = g.members.map((m) => {
      const decoded = m.memberAssignment.length > 0 ? AssignerProtocol.MemberAssignment.decode(m.memberAssignment) : null;
      return [...(decoded?.assignment[topic] ?? [])].sort((a, b) => a - b);
    });
    return { state: g.state, owned: owned.sort((a, b) => (a[0] ?? 99) - (b[0] ?? 99)) };
  }

  const generate = (count: number, rate: number) =>
    pipeline(
      [
        'generate',
        '--topic',
        topic,
        '--count',
        String(count),
        '--rate',
        String(rate),
        '--bootstrap-servers',
        bootstrap,
        '--workspace',
        workspace,
      ],
      {
        timeoutMs: 120_000,
      },
    );

  before(async () => {
    bootstrap = requireEnv('PIPELINE_BOOTSTRAP');
    workspace = tempWorkspace('consumer-groups');
    topic = `it-groups-${Date.now().toString(36)}`;
    const created = await pipeline([
      'topic',
      'create',
      topic,
      '--partitions',
      '3',
      '--bootstrap-servers',
      bootstrap,
      '--workspace',
      workspace,
    ]);
    assert.equal(created.code, 0, created.stderr);
    admin = new Kafka({ brokers: bootstrap.split(','), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    assert.equal((await generate(300, 0)).code, 0);
  });

  after(async () => {
    for (const m of members) m.child.kill('SIGKILL');
    await admin?.disconnect();
  });

  it("refuses the Flink job's group, saying why, before it joins", async () => {
    const run = await pipeline([
      'consume',
      '--group',
      'flink-sensor-processor',
      '--topic',
      topic,
      '--bootstrap-servers',
      bootstrap,
      '--workspace',
      workspace,
    ]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /flink-sensor-processor is the Flink job's consumer group .* A member's commits would move them/);
    const { groups } = await admin.describeGroups(['flink-sensor-processor']);
    assert.equal(groups[0].members.length, 0, 'nobody joined the job’s group');
  });

  it('three members own one partition each; after one leaves, the other two own all three; the group prints every record once, with no gap', async () => {
    const args = ['--group', group, '--topic', topic, '--bootstrap-servers', bootstrap, '--workspace', workspace];
    for (let i = 0; i < 3; i++) members.push(member(args));
    const three = await pollUntil(
      async () => {
        const s = await split();
        return s.state === 'Stable' && s.owned.length === 3 && JSON.stringify(s.owned) === '[[0],[1],[2]]' ? s : undefined;
      },
      60_000,
      500,
    );
    assert.ok(three, `three members do not own one partition each: ${JSON.stringify(await split())}`);

    // Records keep coming while a member leaves: the rebalance happens with the group reading.
    const writing = generate(600, 100);
    await new Promise((r) => setTimeout(r, 2000));
    const leaving = members[0];
    const left = Date.now();
    leaving.child.kill('SIGINT');
    // A clean leave rebalances at once: well within the session timeout (10 s) that a crashed member would need.
    const two = await pollUntil(
      async () => {
        const s = await split();
        return s.state === 'Stable' && s.owned.length === 2 && JSON.stringify(s.owned.flat().sort()) === '[0,1,2]' ? s : undefined;
      },
      10_000,
      200,
    );
    const rebalanceMs = Date.now() - left;
    assert.ok(two, `after one left, the other two do not own all three partitions within 10 s: ${JSON.stringify(await split())}`);
    assert.equal(await leaving.exited, 0, leaving.stderr());
    assert.match(leaving.stdout(), /Left group .* after \d+ records/);
    assert.equal((await writing).code, 0);

    // The group reads to the end; each member says what each rebalance gave it and took.
    const ends = await admin.fetchTopicOffsets(topic);
    const caughtUp = await pollUntil(
      async () => {
        const committed = (await admin.fetchOffsets({ groupId: group, topics: [topic] }))[0].partitions;
        return ends.every((e) => committed.find((c) => c.partition === e.partition)?.offset === e.offset) || undefined;
      },
      60_000,
      500,
    );
    assert.ok(caughtUp, 'the group committed up to the end offsets');
    for (const m of members.slice(1)) m.child.kill('SIGINT');
    await Promise.all(members.slice(1).map((m) => m.exited));

    const printed = new Map<string, number>();
    for (const m of members)
      for (const match of m.stdout().matchAll(/^p(\d+) @(\d+) /gm))
        printed.set(`${match[1]}:${match[2]}`, (printed.get(`${match[1]}:${match[2]}`) ?? 0) + 1);
    const twice = [...printed].filter(([, n]) => n > 1).map(([k]) => k);
    assert.deepEqual(twice, [], 'no record printed twice');
    for (const e of ends)
      for (let offset = 0; offset < Number(e.offset); offset++)
        assert.ok(printed.has(`${e.partition}:${offset}`), `partition ${e.partition} offset ${offset} was printed by a member`);
    assert.equal(
      printed.size,
      ends.reduce((n, e) => n + Number(e.offset), 0),
    );
    const rebalances = members.map((m) => (m.stdout().match(/^── rebalance: this member owns/gm) ?? []).length);
    assert.ok(
      rebalances.slice(1).every((n) => n >= 2),
      `the members that stayed said what each rebalance gave them: ${rebalances}`,
    );
    console.log(`      (rebalance after a clean leave: ${rebalanceMs} ms; ${printed.size} records printed once by the group)`);
  });
});
