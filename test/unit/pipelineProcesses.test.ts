import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PipelineProcess, startupError } from '../../src/local/pipelineProcesses';
import { commandLineOf, groupMembers, isAlive, killProcess, pollUntil, processStartTime } from '../../src/local/proc';

describe('pipeline processes are cleaned up by identity (pid and start time)', function () {
  this.timeout(30_000);
  const workspace = mkdtempSync(join(tmpdir(), 'kfl-identity-'));
  const started: number[] = [];
  after(() => {
    for (const pid of started) killProcess(pid, 'SIGKILL');
    rmSync(workspace, { recursive: true, force: true });
  });

  it('leaves alone another program that now has the pid of a stale pid file, even one named like Flink', async () => {
    // Another program, leader of its own process group, with "flink" in its command line.
    const other = spawn('sleep', ['30'], { argv0: 'pyflink-lookalike', detached: true, stdio: 'ignore' });
    other.unref();
    started.push(other.pid!);
    await pollUntil(async () => (commandLineOf(other.pid!)?.startsWith('pyflink-lookalike') ? true : undefined), 5000, 20);
    const job = new PipelineProcess(workspace, 'job');
    mkdirSync(job.dir, { recursive: true });
    // The pid file of a job that ran earlier under the same pid, started at another time.
    const then = processStartTime(other.pid!)! - 500;
    writeFileSync(
      job.pidFile,
      JSON.stringify({
        pid: other.pid,
        startTime: then,
        startedAt: '2026-01-01T00:00:00Z',
        args: [],
        members: [{ pid: other.pid, startTime: then }],
      }),
    );
    assert.equal(job.running(), false);
    assert.equal(await job.stop(1000), 'not-running');
    assert.ok(isAlive(other.pid), 'the other program still runs');
    // A pid file of an older version (no start time) is no reason to kill either.
    writeFileSync(job.pidFile, JSON.stringify({ pid: other.pid, startedAt: '2026-01-01T00:00:00Z', args: [] }));
    assert.equal(await job.stop(1000), 'not-running');
    assert.ok(isAlive(other.pid), 'the other program still runs');
  });

  it('after python is killed -9, kills what is left of its group, found by the identities noted while it ran', async () => {
    const generator = new PipelineProcess(workspace, 'generator');
    // A stand-in for python and the JVM it starts: a shell and a child in its process group.
    const { child } = generator.start('/bin/sh', ['-c', 'sleep 60 & wait'], { background: true, cwd: workspace });
    // As after `job start --detach`: the command that started it is gone and no longer watches it.
    child.removeAllListeners('exit');
    const leader = child.pid!;
    const members = await pollUntil(async () => (groupMembers(leader).length >= 2 ? groupMembers(leader) : undefined), 5000, 20);
    const orphan = members!.find((pid) => pid !== leader)!;
    started.push(leader, orphan);
    assert.equal(generator.running(), true);
    generator.trackGroup();
    process.kill(leader, 'SIGKILL');
    await pollUntil(async () => (isAlive(leader) ? undefined : true), 5000, 20);
    assert.ok(isAlive(orphan), 'the child outlived its leader');
    assert.equal(await generator.stop(1000), 'killed');
    assert.equal(isAlive(orphan), false);
  });

  it('when python dies while the CLI that started it watches, what is left of its group goes too', async () => {
    const job = new PipelineProcess(workspace, 'job');
    const { child, exited } = job.start('/bin/sh', ['-c', 'sleep 60 & wait'], { background: false, cwd: workspace });
    const leader = child.pid!;
    const members = await pollUntil(async () => (groupMembers(leader).length >= 2 ? groupMembers(leader) : undefined), 5000, 20);
    const left = members!.find((pid) => pid !== leader)!;
    started.push(leader, left);
    job.trackGroup();
    process.kill(leader, 'SIGKILL');
    assert.equal(await exited, 1);
    assert.equal(isAlive(left), false);
    assert.equal(job.running(), false);
  });
});

describe('why a job did not start', () => {
  it('is the last `error:` line of its log, else nothing', () => {
    const log =
      'restoring from checkpoint x\nerror: an old one\nTraceback...\nerror: port 8081 (Flink REST) on 127.0.0.1 is busy, held by java (pid 42).\n';
    assert.equal(startupError(log), 'port 8081 (Flink REST) on 127.0.0.1 is busy, held by java (pid 42).');
    assert.equal(startupError('Flink job running: http://127.0.0.1:8081\n'), undefined);
    assert.equal(startupError(''), undefined);
  });
});
