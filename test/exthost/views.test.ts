// What the Kafka, Pipeline and Flink views show a user with no broker and no Flink running, read through the tree
// providers the way VS Code reads them: a provider that throws, or a row that tells the wrong thing, fails here.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ExtensionTestHooks } from '../../src/extension';
import { answers, closedPort, describeRows, labelOf, rowsOf, setWorkspaceSetting, testHooks, until, type Row } from './hooks';

const PIPELINE_STAGES = ['Kafka broker', 'Sensor generator', 'Flink job', 'Ingest', 'Consumer lag', 'Flink web UI', 'Results'];

describe('The views, with nothing running', () => {
  let views: ExtensionTestHooks['views'];
  let registered: Set<string>;

  before(async function () {
    this.timeout(60_000);
    views = (await testHooks()).views;
    registered = new Set(await vscode.commands.getCommands(true));
  });

  /** Every row a user can click runs a command that exists. */
  function assertClickable(rows: Row[]): void {
    const dead = rows.filter((r) => r.item.command && !registered.has(r.item.command.command)).map((r) => r.item.command!.command);
    assert.deepEqual(dead, [], `rows run unregistered commands: ${dead.join(', ')}`);
  }

  /** The Pipeline view's rows once the status monitor has polled (before that the broker row reads `…`). */
  function polledPipelineRows(address: string): Promise<Row[]> {
    return until(
      async () => {
        const rows = await rowsOf(views.pipeline);
        const broker = String(rows[0]?.item.description ?? '');
        return broker.endsWith(` · ${address}`) && !broker.startsWith('…') ? rows : undefined;
      },
      15_000,
      () => `the Pipeline view's broker row never showed a polled state of ${address}`,
    );
  }

  it('lists the pipeline stages in the Pipeline view, with the broker and the processes as they are', async () => {
    const brokerUp = await answers(9092);
    const flinkUp = await answers(8081);
    const rows = await polledPipelineRows('127.0.0.1:9092');
    assert.deepEqual(
      rows.map((r) => labelOf(r.item)),
      PIPELINE_STAGES,
      describeRows(rows),
    );
    const description = (label: string) => String(rows.find((r) => labelOf(r.item) === label)?.item.description);
    assert.equal(description('Kafka broker'), `${brokerUp ? 'up' : 'down'} · 127.0.0.1:9092`);
    assert.equal(description('Sensor generator'), 'stopped · → sensor-data');
    if (!flinkUp) {
      assert.equal(description('Flink job'), 'stopped');
      assert.equal(description('Flink web UI'), 'http://127.0.0.1:8081 (not running)');
    }
    for (const row of rows) assert.deepEqual(await rowsOf(views.pipeline, row.element), [], `${labelOf(row.item)} has child rows`);
    assertClickable(rows);
  });

  it("shows the Kafka view's welcome (no rows) while the local broker does not run, else the local cluster", async () => {
    const rows = await rowsOf(views.kafka);
    if (await answers(9092)) {
      assert.equal(rows.length, 1, describeRows(rows));
      assert.equal(labelOf(rows[0].item), 'local');
      assert.match(String(rows[0].item.description), /^127\.0\.0\.1:9092 · \d+ brokers?$/);
    } else assert.deepEqual(describeRows(rows), '(no rows)', 'the welcome view shows only when the view has no rows');
  });

  it('shows a configured broker that does not answer as unreachable, with the reason and a retry', async function () {
    this.timeout(60_000);
    const address = `127.0.0.1:${await closedPort()}`;
    try {
      await setWorkspaceSetting('bootstrapServers', address);
      const roots = await until(
        async () => {
          const rows = await rowsOf(views.kafka);
          return rows.some((r) => String(r.item.description).startsWith(address)) ? rows : undefined;
        },
        20_000,
        () => `the Kafka view never showed ${address}`,
      );
      assert.equal(roots.length, 1, describeRows(roots));
      const [cluster] = roots;
      assert.equal(labelOf(cluster.item), 'cluster');
      assert.equal(cluster.item.description, `${address} · unreachable`);
      assert.equal(cluster.item.collapsibleState, vscode.TreeItemCollapsibleState.Expanded);
      assert.match(String(cluster.item.contextValue), /\berror\b/);
      const below = await rowsOf(views.kafka, cluster.element);
      assert.equal(below.length, 1, describeRows(below));
      const [error] = below;
      assert.ok(labelOf(error.item).startsWith(`Cannot reach Kafka at ${address}: start it`), describeRows(below));
      assert.equal(error.item.command?.command, 'kafkaFlinkLab.kafka.refresh');
      assert.deepEqual(await rowsOf(views.kafka, error.element), []);
      assertClickable([...roots, ...below]);
      // The pipeline's status follows the same setting.
      const pipeline = await polledPipelineRows(address);
      assert.equal(pipeline[0].item.description, `down · ${address}`);
    } finally {
      await setWorkspaceSetting('bootstrapServers', undefined);
    }
  });

  it("tells in the Flink view that Flink's REST API does not answer, with a retry", async function () {
    this.timeout(60_000);
    // The local address with no job started from here is the welcome view ("No Flink job runs…"): no rows.
    if (!(await answers(8081))) {
      await vscode.commands.executeCommand('kafkaFlinkLab.flink.refresh');
      const rows = await rowsOf(views.flink);
      assert.equal(describeRows(rows), '(no rows)', 'the welcome view shows only when the view has no rows');
    }
    // A session cluster at another machine's address (127.0.0.2 is loopback too, but not the local Flink) that
    // nothing serves.
    const url = `http://127.0.0.2:${await closedPort()}`;
    try {
      await setWorkspaceSetting('flink.target', url);
      const rows = await until(
        async () => {
          await vscode.commands.executeCommand('kafkaFlinkLab.flink.refresh');
          const found = await rowsOf(views.flink);
          return found.length > 0 ? found : undefined;
        },
        20_000,
        () => `the Flink view shows no rows for ${url}`,
      );
      assert.deepEqual(
        rows.map((r) => [labelOf(r.item), r.item.description, r.item.command?.command]),
        [[`Flink's REST API at ${url} does not answer`, 'click to retry', 'kafkaFlinkLab.flink.refresh']],
      );
      assert.deepEqual(await rowsOf(views.flink, rows[0].element), []);
      assertClickable(rows);
    } finally {
      await setWorkspaceSetting('flink.target', undefined);
    }
  });
});
