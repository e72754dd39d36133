import * as assert from 'node:assert/strict';
import { UserError } from '../../src/shared/errors';
import { currentJob, flinkWebUiUrl, localRestPort, normalizeRestUrl, phaseOfFlinkState } from '../../src/flink/flinkJobs';

describe('Flink job state from the REST API', () => {
  it('maps Flink states to running / starting / failed / stopped', () => {
    assert.equal(phaseOfFlinkState('RUNNING'), 'running');
    for (const s of ['INITIALIZING', 'CREATED', 'RESTARTING', 'RECONCILING']) assert.equal(phaseOfFlinkState(s), 'starting');
    for (const s of ['FAILING', 'FAILED']) assert.equal(phaseOfFlinkState(s), 'failed');
    for (const s of ['CANCELED', 'CANCELLING', 'FINISHED', 'SUSPENDED']) assert.equal(phaseOfFlinkState(s), 'stopped');
  });

  it('shows the live job before older finished ones, else the newest', () => {
    const jobs = [
      { jid: 'a', name: 'old', state: 'FAILED', startTime: 3, duration: 1 },
      { jid: 'b', name: 'live', state: 'RUNNING', startTime: 2, duration: 1 },
      { jid: 'c', name: 'older', state: 'CANCELED', startTime: 1, duration: 1 },
    ];
    assert.equal(currentJob(jobs)?.jid, 'b');
    assert.equal(currentJob(jobs.filter((j) => j.jid !== 'b'))?.jid, 'a');
    assert.equal(currentJob([]), undefined);
  });

  it('follows the pipeline job by the id its process recorded, not the newest job: SQL statements share the cluster', () => {
    const jobs = [
      { jid: 'stmt', name: 'collect', state: 'RUNNING', startTime: 9, duration: 1 },
      { jid: 'pipe', name: 'sensor-pipeline[sensor-data]', state: 'RUNNING', startTime: 5, duration: 1 },
      { jid: 'old', name: 'sensor-pipeline[sensor-data]', state: 'CANCELED', startTime: 1, duration: 1 },
    ];
    assert.equal(currentJob(jobs, 'pipe')?.jid, 'pipe');
    assert.equal(currentJob(jobs, 'old')?.jid, 'old', 'the recorded job even when it has ended');
    assert.equal(currentJob(jobs)?.jid, 'pipe', 'without a record, a pipeline job before a newer statement');
    assert.equal(currentJob(jobs, 'gone')?.jid, 'pipe', 'a record the cluster does not know falls back the same way');
    assert.equal(currentJob(jobs.filter((j) => j.jid === 'stmt'))?.jid, 'stmt', 'only statements: the newest live one');
  });

  it('checks the REST URL and finds the local port', () => {
    assert.deepEqual(normalizeRestUrl('http://127.0.0.1:8081/'), { url: 'http://127.0.0.1:8081' });
    assert.match(normalizeRestUrl('127.0.0.1:8081').error ?? '', /http:\/\//);
    assert.match(normalizeRestUrl('ftp://x').error ?? '', /http:\/\//);
    assert.equal(localRestPort('http://localhost:18081'), 18081);
    assert.equal(localRestPort('http://127.0.0.1:8081'), 8081);
    assert.equal(localRestPort('https://flink.example.com'), undefined);
  });

  it('"Open Flink Web UI" opens only an http(s) address, and says which setting to fix', () => {
    assert.equal(flinkWebUiUrl('http://127.0.0.1:8081/'), 'http://127.0.0.1:8081');
    assert.equal(flinkWebUiUrl('https://flink.example.com:8443'), 'https://flink.example.com:8443');
    for (const bad of [
      'file:///etc/passwd',
      'command:workbench.action.terminal.new',
      'javascript:alert(1)',
      'vscode://vscode.git/clone?url=x',
      '127.0.0.1:8081',
      '',
    ]) {
      assert.throws(
        () => flinkWebUiUrl(bad),
        (e: Error) => e instanceof UserError && /http:\/\//.test(e.message) && /kafkaFlinkLab\.flinkRestUrl/.test(e.message),
        bad,
      );
    }
  });
});
