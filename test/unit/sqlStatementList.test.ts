import * as assert from 'node:assert/strict';
import { statementRows, stopTarget, type ListedStatement } from '../../src/flink/sqlStatementList';

const JOB = '709c2ad1fe31c749a0ad7c654f70d768';

function listed(id: number, snapshot: Partial<ListedStatement['snapshot']>, extra: Partial<ListedStatement> = {}): ListedStatement {
  return {
    id,
    title: `Live: statement ${id}`,
    statement: `SELECT ${id}`,
    gateway: 'https://127.0.0.1:8083',
    bounded: false,
    snapshot: { state: 'running', kind: 'query', tableRows: 0, changes: 0, seconds: 1, ...snapshot },
    ...extra,
  };
}

describe('the Flink SQL Statements view', () => {
  it('offers Stop on a statement still reading, and on an INSERT whose job still runs; not on what has ended', () => {
    assert.equal(stopTarget(listed(1, { state: 'waiting' })), 'statement');
    assert.equal(stopTarget(listed(2, { state: 'running', tableRows: 3, changes: 5 })), 'statement');
    assert.equal(stopTarget(listed(3, { state: 'finished', kind: 'insert', jobId: JOB }, { jobStatus: 'RUNNING' })), 'job');
    assert.equal(stopTarget(listed(4, { state: 'finished', kind: 'insert', jobId: JOB }, { jobStatus: 'submitted' })), 'job');
    assert.equal(stopTarget(listed(5, { state: 'finished', kind: 'insert', jobId: JOB }, { jobStatus: 'CANCELED' })), undefined);
    assert.equal(stopTarget(listed(6, { state: 'finished', kind: 'query' })), undefined);
    assert.equal(stopTarget(listed(7, { state: 'stopped' })), undefined);
    assert.equal(stopTarget(listed(8, { state: 'failed', kind: 'insert', problem: { message: 'no such table' } })), undefined);
  });

  it('lists the newest first, each with what it is doing now', () => {
    const rows = statementRows([
      listed(1, { state: 'running', tableRows: 35, changes: 1, jobId: JOB }),
      listed(2, { state: 'finished', kind: 'insert', jobId: JOB }, { jobStatus: 'RUNNING' }),
      listed(3, { state: 'failed', problem: { message: "Column 'no_such_column' not found in any table" } }),
      listed(4, { state: 'stopped', tableRows: 12 }, { bounded: true }),
    ]);
    assert.deepEqual(
      rows.map((r) => [r.id, r.description, r.icon, r.stop]),
      [
        [4, 'stopped · 12 rows', 'circle-slash', undefined],
        [3, "failed: Column 'no_such_column' not found in any table", 'error', undefined],
        [2, 'job RUNNING · 709c2ad1', 'play-circle', 'job'],
        [1, 'live · 35 rows · 1 change · job 709c2ad1', 'sync~spin', 'statement'],
      ],
    );
    assert.match(rows[3].tooltip, /Stop closes the statement: the gateway cancels its Flink job/);
    assert.match(
      rows[2].tooltip,
      /An INSERT runs as a Flink job of its own, beside the pipeline job, after its statement has ended\. Stop cancels it\./,
    );
  });
});
