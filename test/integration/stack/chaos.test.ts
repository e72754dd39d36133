import * as assert from 'node:assert/strict';
import { pipeline, tempWorkspace } from '../../support/cli';

/**
 * The quick faults of `pipeline chaos`, each during a run with events flowing on its own broker and job: the table's
 * every row must say nothing was lost and nothing doubled. Those columns come from the chaos suite's own oracle (the
 * input topic read from its start against the committed files), not from `pipeline verify`, and the events column is
 * what that oracle read from the topic, so it must equal the --events the generator was given.
 */
describe('pipeline chaos --quick (real broker, real PyFlink, real faults)', function () {
  this.timeout(1_800_000);

  it('loses and doubles nothing through a broker restart, three job kills, an unwritable output folder and a broker then a job kill', async () => {
    const events = 20_000;
    const run = await pipeline(['chaos', '--quick', '--events', String(events), '--workspace', tempWorkspace('chaos')], {
      timeoutMs: 1_700_000,
    });
    const faults = ['broker-restart', 'job-kill-x3', 'output-unwritable', 'broker-then-job-kill'];
    const lines = run.stdout.split('\n');
    const table = lines.filter((l) => faults.some((f) => l.startsWith(`${f} `)));
    console.log(
      lines
        .filter((l) => /^(fault|broker|job|output|lost\/duplicated|seed)/.test(l))
        .map((l) => `      ${l}`)
        .join('\n'),
    );
    assert.deepEqual(
      table.map((l) => l.split(/\s+/)[0]),
      faults,
      `${run.stdout}\n${run.stderr.slice(-3000)}`,
    );
    assert.ok(
      lines.some((l) => /^lost\/duplicated: committed files vs\. the input topic/.test(l)),
      'the table names its oracle',
    );
    for (const line of table) {
      const [fault, read, lost, duplicated, recovery] = line.split(/\s{2,}/);
      assert.equal(read, String(events), `${fault}: the topic holds every event the generator was told to send: ${line}`);
      assert.equal(lost, '0', `${fault} lost events: ${line}`);
      assert.equal(duplicated, '0', `${fault} doubled events: ${line}`);
      assert.match(recovery, /^\d+\.\d$/, `${fault} recovered: ${line}`);
    }
    assert.equal(run.code, 0, run.stderr.slice(-3000));
  });
});
