import * as assert from 'node:assert/strict';
import { pipeline, tempWorkspace } from '../../support/cli';

/**
 * The quick faults of `pipeline chaos`, each during a run with events flowing on its own broker and job: the table's
 * every row must say nothing was lost and nothing doubled (checked again here from the printed table).
 */
describe('pipeline chaos --quick (real broker, real PyFlink, real faults)', function () {
  this.timeout(1_800_000);

  it('loses and doubles nothing through a broker restart, three job kills and an unwritable output folder', async () => {
    const run = await pipeline(['chaos', '--quick', '--events', '20000', '--workspace', tempWorkspace('chaos')], { timeoutMs: 1_700_000 });
    const table = run.stdout.split('\n').filter((l) => /^(broker-restart|job-kill-x3|output-unwritable)\s/.test(l));
    console.log(
      run.stdout
        .split('\n')
        .filter((l) => /^(fault|broker|job|output|seed)/.test(l))
        .map((l) => `      ${l}`)
        .join('\n'),
    );
    assert.equal(table.length, 3, `${run.stdout}\n${run.stderr.slice(-3000)}`);
    for (const line of table) {
      const [fault, events, lost, duplicated, recovery] = line.split(/\s{2,}/);
      assert.equal(events, '20000', line);
      assert.equal(lost, '0', `${fault} lost events: ${line}`);
      assert.equal(duplicated, '0', `${fault} doubled events: ${line}`);
      assert.match(recovery, /^\d+\.\d$/, `${fault} recovered: ${line}`);
    }
    assert.equal(run.code, 0, run.stderr.slice(-3000));
  });
});
