import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatBytes, mavenTally, pipTally, tallyProgress, uvTally } from '../../src/local/installProgress';
import { claimLock, isLockHeld, withInstallLock } from '../../src/local/installLock';
import { identityOf, isAlive } from '../../src/local/proc';
import { StepTimer, stepTable } from '../../src/cli/setupCli';
import { ensureFlinkRuntime, startUpArchiveState } from '../../src/local/flinkRuntime';
import { isCompleteFolder } from '../../src/local/install';
import { repoRoot } from '../support/cli';

const MAVEN_OUTPUT = `[INFO] Scanning for projects...
Downloading from central: https://repo.maven.apache.org/maven2/org/apache/kafka/kafka_2.13/4.4.0/kafka_2.13-4.4.0.pom
Downloaded from central: https://repo.maven.apache.org/maven2/org/apache/kafka/kafka_2.13/4.4.0/kafka_2.13-4.4.0.pom (2.9 kB at 14 kB/s)
Downloaded from central: https://repo.maven.apache.org/maven2/org/apache/kafka/kafka_2.13/4.4.0/kafka_2.13-4.4.0.jar (6.9 MB at 5.1 MB/s)
[INFO] Downloaded from central: https://repo.maven.apache.org/maven2/org/scala-lang/scala-library/2.13.16/scala-library-2.13.16.jar (5.9 MB at 4.0 MB/s)
[INFO] BUILD SUCCESS
`;

const PIP_OUTPUT = `Collecting apache-flink==2.2.1 (from -r requirements.txt (line 2))
  Downloading apache_flink-2.2.1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl (8.3 MB)
Collecting apache-flink-libraries<2.2.2,>=2.2.1 (from apache-flink==2.2.1)
  Downloading apache_flink_libraries-2.2.1-py3-none-any.whl (236.1 MB)
Collecting pytz (from apache-flink==2.2.1)
  Using cached pytz-2025.2-py2.py3-none-any.whl (509 kB)
`;

describe('what Maven and pip say while downloading, summed up', () => {
  it('Maven: counts each downloaded file and its size, also when a line arrives in two chunks', () => {
    const tally = mavenTally();
    const cut = MAVEN_OUTPUT.indexOf('(6.9 MB');
    tally.add(MAVEN_OUTPUT.slice(0, cut));
    tally.add(MAVEN_OUTPUT.slice(cut));
    assert.equal(tally.files, 3);
    assert.equal(tally.bytes, 2_900 + 6_900_000 + 5_900_000);
    assert.equal(tally.current, 'scala-library-2.13.16.jar');
    assert.equal(tally.summary(2000), '3 files, 12.8 MB (6.4 MB/s)');
  });

  it('pip: counts the downloads it starts (not the cached ones) and names the one under way', () => {
    const tally = pipTally();
    tally.add(PIP_OUTPUT);
    assert.equal(tally.files, 2);
    assert.equal(tally.bytes, 8_300_000 + 236_100_000);
    assert.equal(tally.current, 'apache_flink_libraries-2.2.1 (236.1 MB)');
    tally.add('Installing collected packages: pytz, apache-flink-libraries\n');
    assert.equal(tally.current, 'installing the downloaded packages');
  });

  it('uv: counts the large downloads it names (binary units) and says the phase it is in', () => {
    const tally = uvTally();
    tally.add('Resolved 59 packages in 3.00s\nDownloading pandas (12.5MiB)\nDownloading pyarrow (38.9MiB)\n');
    assert.equal(tally.files, 2);
    assert.equal(tally.bytes, Math.round(12.5 * 1024 ** 2) + Math.round(38.9 * 1024 ** 2));
    assert.equal(tally.current, 'pyarrow (38.9 MiB)');
    tally.add(' Downloaded pyarrow\nPrepared 59 packages in 9.81s\n');
    assert.equal(tally.current, 'Prepared 59 packages in 9.81s');
  });

  it('sizes in decimal units, as the tools print them', () => {
    assert.deepEqual(
      [formatBytes(874.316), formatBytes(2_900), formatBytes(6_900_000), formatBytes(1_250_000_000)],
      ['874 B', '3 kB', '6.9 MB', '1.25 GB'],
    );
  });
});

describe('the progress line of a download', () => {
  it('says nothing until something was downloaded or the tool said what it does, then the tally every interval', () => {
    const lines: string[] = [];
    const started = Date.now() - 2000;
    const feed = tallyProgress('Maven', mavenTally(), (m) => lines.push(m), started, 0);
    feed('[INFO] Scanning for projects...\n');
    assert.deepEqual(lines, []);
    feed(MAVEN_OUTPUT);
    assert.equal(lines.length, 1);
    assert.match(lines[0], /^ {2}Maven: 3 files, 12\.8 MB \([\d.]+ MB\/s\); scala-library-2\.13\.16\.jar$/);
  });
});

describe('one install of a kind at a time, across processes', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'kfl-lock-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const options = (lines: string[], timeoutMs = 3000) => ({ what: 'Maven', progress: (m: string) => lines.push(m), timeoutMs, pollMs: 50 });

  it('runs of one process take turns: the second starts after the first has ended', async () => {
    const order: string[] = [];
    const slow = (name: string) => async () => {
      order.push(`${name} start`);
      await new Promise((r) => setTimeout(r, 100));
      order.push(`${name} end`);
    };
    await Promise.all([withInstallLock(dir, 'maven', options([]), slow('a')), withInstallLock(dir, 'maven', options([]), slow('b'))]);
    assert.deepEqual(order, ['a start', 'a end', 'b start', 'b end']);
    assert.equal(existsSync(join(dir, 'maven.lock')), false, 'the lock folder is removed after the run');
  });

  it('waits, saying so, while another live process holds the lock, and goes on when it ends', async () => {
    const other = spawn('sleep', ['0.6']);
    await new Promise((r) => other.once('spawn', r));
    mkdirSync(join(dir, 'maven.lock'));
    writeFileSync(join(dir, 'maven.lock', 'owner.json'), JSON.stringify(identityOf(other.pid!)));
    let ended = false;
    other.once('exit', () => (ended = true));
    const lines: string[] = [];
    const ranAfterItEnded = await withInstallLock(dir, 'maven', options(lines), async () => !isAlive(other.pid!));
    assert.equal(ranAfterItEnded, true, `it waited for the other process (ended: ${ended})`);
    assert.match(lines.join('\n'), new RegExp(`Waiting for another Maven run \\(pid ${other.pid}\\)`));
  });

  it('takes over a lock whose owner has gone (killed half-way), and gives up on a live one after the timeout', async () => {
    const gone = spawnSync('true');
    mkdirSync(join(dir, 'maven.lock'));
    writeFileSync(join(dir, 'maven.lock', 'owner.json'), JSON.stringify({ pid: gone.pid, startTime: 1 }));
    assert.equal(isLockHeld(dir, 'maven'), false);
    assert.equal(await withInstallLock(dir, 'maven', options([]), async () => 'ran'), 'ran');

    const held = claimLock(dir, 'venv');
    assert.ok(held, 'a free lock is claimed');
    assert.equal(claimLock(dir, 'venv'), undefined, 'a held lock is not claimed twice');
    await assert.rejects(
      withInstallLock(dir, 'venv', options([], 300), async () => 'never'),
      /has held .*venv\.lock for over/,
    );
    held.release();
  });

  it('a lock handed over to a detached child lasts as long as the child', async () => {
    const lock = claimLock(dir, 'start-up-archive')!;
    const child = spawn('sleep', ['0.3']);
    await new Promise((r) => child.once('spawn', r));
    lock.handOver(child.pid!);
    assert.equal(JSON.parse(readFileSync(join(dir, 'start-up-archive.lock', 'owner.json'), 'utf8')).pid, child.pid);
    assert.equal(isLockHeld(dir, 'start-up-archive'), true);
    await new Promise((r) => child.once('exit', r));
    assert.equal(isLockHeld(dir, 'start-up-archive'), false);
  });
});

describe('the step table of pipeline setup', () => {
  it('times overlapping steps from one origin, listed in the order they began', async () => {
    const timer = new StepTimer();
    const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await Promise.all([timer.time('PyFlink virtual environment', () => wait(300)), timer.time('Kafka jars', () => wait(100))]);
    await timer.time('Flink runtime', () => wait(0));
    const [kafka, venv, runtime] = ['Kafka jars', 'PyFlink virtual environment', 'Flink runtime'].map((s) =>
      timer.steps.find((t) => t.step === s)!,
    );
    assert.ok(venv.seconds >= 0.3 && kafka.seconds >= 0.1 && kafka.seconds < 0.3);
    assert.ok(runtime.startedAt >= venv.startedAt + venv.seconds - 0.1, 'the runtime step began after both');
    const table = stepTable(timer.steps);
    assert.equal(table.length, 3);
    assert.match(table[2], /^ {2}Flink runtime\s+from\s+0\.[3-9] s\s+0\.0 s$/);
  });
});

describe('npm start', () => {
  it('refuses a second start of the same checkout while the first runs, naming it and its address', () => {
    const state = mkdtempSync(join(tmpdir(), 'kfl-start-'));
    try {
      const me = identityOf(process.pid)!;
      writeFileSync(join(state, 'start.pid'), JSON.stringify({ pid: me.pid, startTime: String(me.startTime), port: 8123 }));
      const second = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'start.mjs')], {
        env: { ...process.env, KFL_START_STATE_DIR: state },
        encoding: 'utf8',
        timeout: 20_000,
      });
      assert.equal(second.status, 1);
      assert.match(
        second.stdout,
        new RegExp(`npm start is already running for this checkout \\(pid ${process.pid}; VS Code at http://127.0.0.1:8123/\\)`),
      );
      assert.equal(existsSync(join(state, 'start.pid')), true, "the running one's pid file is left alone");
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });
});

describe('the Flink runtime and its start-up archive', () => {
  let root: string;
  let python: string;
  const jars = { connectorJar: '', jobLibJar: '' };
  let planner: string;
  const env = () => ({ ...process.env, PIPELINE_CACHE_DIR: join(root, 'cache') });

  /**
   * A venv whose "python" stands in for the rehearsal (startup_archive.py): it waits `delay` seconds, then writes the
   * archive into --runtime-dir, as the real one renames its finished archive into place.
   */
  /** A python that records the archive once the file `go` exists (at once when `open`). */
  function fakeVenv(open: boolean): void {
    if (open) writeFileSync(join(root, 'go'), '');
    const lib = join(root, 'venv', 'lib', 'python3.11', 'site-packages', 'pyflink', 'lib');
    mkdirSync(lib, { recursive: true });
    writeFileSync(join(lib, 'flink-dist-2.2.1.jar'), 'jar');
    mkdirSync(join(root, 'venv', 'bin'));
    python = join(root, 'venv', 'bin', 'python');
    writeFileSync(
      python,
      `#!/bin/sh\nuntil [ -e "${join(root, 'go')}" ]; do sleep 0.05; done\nwhile [ "$1" != "--runtime-dir" ]; do shift; done\necho archive > "$2/start-up.jsa"\n`,
      { mode: 0o755 },
    );
    for (const [key, name] of [
      ['connectorJar', 'connector.jar'],
      ['jobLibJar', 'job-lib.jar'],
    ] as const) {
      jars[key] = join(root, name);
      writeFileSync(jars[key], 'jar');
    }
    planner = join(root, 'planner.jar');
    writeFileSync(planner, 'jar');
  }

  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'kfl-runtime-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('setup (archive now) records the archive before it returns; skip leaves the runtime complete without one', async () => {
    fakeVenv(true);
    const skipped = await ensureFlinkRuntime(python, planner, jars, () => undefined, env(), { archive: 'skip' });
    assert.equal(isCompleteFolder(skipped), true);
    assert.equal(startUpArchiveState(skipped), 'missing');
    const dir = await ensureFlinkRuntime(python, planner, jars, () => undefined, env(), { archive: 'now' });
    assert.equal(dir, skipped, 'the same runtime folder');
    assert.equal(startUpArchiveState(dir), 'present');
  });

  it('a job start (archive background) returns at once, and a later setup waits for that recording instead of making a second', async () => {
    fakeVenv(false);
    const lines: string[] = [];
    // The recording cannot end before the test lets it: returning while it is still recording is returning at once.
    const dir = await ensureFlinkRuntime(python, planner, jars, (m) => lines.push(m), env(), { archive: 'background' });
    assert.equal(startUpArchiveState(dir), 'recording');
    const setup = ensureFlinkRuntime(python, planner, jars, (m) => lines.push(m), env(), { archive: 'now' });
    for (let i = 0; i < 80 && !lines.some((l) => l.includes('Waiting for another')); i++) await new Promise((r) => setTimeout(r, 50));
    writeFileSync(join(root, 'go'), '');
    await setup;
    assert.equal(startUpArchiveState(dir), 'present');
    assert.match(
      lines.join('\n'),
      /Recording the start-up class archive in the background[\s\S]*Waiting for another start-up archive recording run/,
    );
    assert.doesNotMatch(lines.join('\n'), /Recording the Flink job start-up class archive \(once/, 'no second recording');
  });
});
