import * as assert from 'node:assert/strict';
import { joiningRuns } from '../../src/shared/runs';

describe('coalesced poll runs', () => {
  /** A poll that reads `state.value` when it begins and publishes it when it ends, after `ms`. */
  function poll(state: { value: string; published: string[]; running: number; maxRunning: number }, ms = 30) {
    return async () => {
      const seen = state.value;
      state.running++;
      state.maxRunning = Math.max(state.maxRunning, state.running);
      await new Promise((r) => setTimeout(r, ms));
      state.running--;
      state.published.push(seen);
    };
  }

  it('a refresh asked for during a run gets a run that begins after the change (the last published state is the new one)', async () => {
    const state = { value: 'exthost-topic', published: [] as string[], running: 0, maxRunning: 0 };
    const refresh = joiningRuns(poll(state), (e) => assert.fail(String(e)));
    const first = refresh();
    state.value = 'sensor-data'; // a setting changes while the first run is reading
    await refresh();
    await first;
    assert.deepEqual(state.published, ['exthost-topic', 'sensor-data']);
  });

  it('every call during a run shares one more run; runs never overlap; with none in flight a call starts one at once', async () => {
    const state = { value: 'a', published: [] as string[], running: 0, maxRunning: 0 };
    const refresh = joiningRuns(poll(state), (e) => assert.fail(String(e)));
    const calls = [refresh(), refresh(), refresh(), refresh()];
    assert.equal(calls[1], calls[2], 'the calls made during the run share one promise');
    await Promise.all(calls);
    assert.equal(state.published.length, 2, 'the run in flight and one more');
    assert.equal(state.maxRunning, 1);
    await refresh();
    assert.equal(state.published.length, 3);
  });

  it('a failing run goes to onError and does not stop the next', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const refresh = joiningRuns(
      async () => {
        calls++;
        if (calls === 1) throw new Error('broker gone');
      },
      (e) => errors.push(e),
    );
    await refresh();
    await refresh();
    assert.equal(calls, 2);
    assert.match(String(errors[0]), /broker gone/);
  });
});
