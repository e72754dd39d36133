// The window guard's messages: what it accepts holds only what it may act on (job ids, a session, loopback REST).
import * as assert from 'node:assert/strict';
import { guardHasWork, guardStateOf, parseGuardMessage } from '../../src/flink/windowGuardState';

const JOB = 'a'.repeat(32);
const SESSION = '0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0';
const state = {
  gateway: 'https://127.0.0.1:8083',
  local: true,
  workspace: '/w',
  session: SESSION,
  restUrl: 'http://127.0.0.1:8081',
  jobs: [JOB, JOB],
};

describe('the window guard', () => {
  it('takes a state, with each job once', () => {
    assert.deepEqual(parseGuardMessage({ kind: 'state', state }), { kind: 'state', state: { ...state, jobs: [JOB] } });
    assert.deepEqual(parseGuardMessage({ kind: 'bye' }), { kind: 'bye' });
  });

  it('what the editor tells it: the running jobs, the REST API of the local cluster they run on, the session', () => {
    const open = { handle: SESSION, gateway: 'https://127.0.0.1:8083', local: true };
    const at = { workspace: '/w', localRestUrl: 'http://127.0.0.1:8081' };
    const running = [{ jobId: JOB, local: true }, { local: true }];
    assert.deepEqual(guardStateOf({ ...at, running, open, last: undefined }), { ...state, jobs: [JOB] });
    // Nothing runs: the session is not the guard's to close, and no job is named.
    assert.deepEqual(guardStateOf({ ...at, running: [], open, last: undefined }), {
      gateway: open.gateway,
      local: true,
      workspace: '/w',
      restUrl: at.localRestUrl,
      jobs: [],
    });
    // The window began to close its session while statements still run (a shutdown cut short, a new session on its
    // way): the last session stays, and the REST API of the cluster the jobs run on.
    assert.deepEqual(guardStateOf({ ...at, running, open: undefined, last: open }), { ...state, jobs: [JOB] });
    assert.deepEqual(guardStateOf({ ...at, running: [{ jobId: JOB, local: true }], open: undefined, last: undefined }), {
      local: true,
      workspace: '/w',
      restUrl: at.localRestUrl,
      jobs: [JOB],
    });
    // A gateway a setting names: its jobs run where the guard cannot reach them by the local REST API.
    const named = { handle: SESSION, gateway: 'https://gateway.example:8083', local: false };
    assert.deepEqual(guardStateOf({ ...at, running: [{ jobId: JOB, local: false }], open: named, last: undefined }), {
      gateway: named.gateway,
      local: false,
      workspace: '/w',
      session: SESSION,
      jobs: [JOB],
    });
  });

  it('takes a state with nothing open yet, and calls it idle', () => {
    const idle = parseGuardMessage({ kind: 'state', state: { local: true, workspace: '/w', jobs: [] } });
    assert.deepEqual(idle, { kind: 'state', state: { local: true, workspace: '/w', jobs: [] } });
    assert.equal(guardHasWork(idle?.kind === 'state' ? idle.state : undefined), false);
    assert.equal(guardHasWork({ ...state, session: undefined }), true);
    assert.equal(guardHasWork({ local: true, workspace: '/w', jobs: [], session: SESSION, gateway: state.gateway }), true);
  });

  it('refuses what it must not act on: a job id that is not one, a REST API off the machine, a session without its gateway', () => {
    for (const bad of [
      { ...state, jobs: ['../../jobs'] },
      { ...state, jobs: [JOB.toUpperCase()] },
      { ...state, restUrl: 'http://example.com:8081' },
      { ...state, restUrl: 'http://127.0.0.1:8081/jobs' },
      { ...state, gateway: 'https://127.0.0.1:8083/v4' },
      { ...state, gateway: undefined },
      { ...state, session: 'x; rm -rf /' },
      { ...state, workspace: '' },
      { ...state, local: 'yes' },
    ])
      assert.equal(parseGuardMessage({ kind: 'state', state: bad }), undefined, JSON.stringify(bad));
    for (const bad of [undefined, null, 'bye', { kind: 'stop' }, { kind: 'state' }, { kind: 'state', state: null }])
      assert.equal(parseGuardMessage(bad), undefined, JSON.stringify(bad));
  });
});
