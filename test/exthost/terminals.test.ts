// The SASL password reaches a terminal's process only as a 0600 file its environment names, never in TerminalOptions.env
// (which VS Code hands to every extension as Terminal.creationOptions); the file goes when the terminal closes.
import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { Log } from '../../src/services/log';
import { PipelineTerminals, TERMINAL_NAMES } from '../../src/services/terminals';
import { until } from './hooks';

describe('A terminal started with the SASL password', () => {
  const password = `pw-${Date.now().toString(36)}`;
  const dir = mkdtempSync(join(tmpdir(), 'kfl-terminal-'));
  const seen = join(dir, 'seen.txt');
  // Stands in for dist/cli.js: writes down what it read through the file its environment names, then stays running.
  const cli = join(dir, 'cli.js');
  writeFileSync(
    cli,
    `const fs = require('fs');\n` +
      `const file = process.env.PIPELINE_SASL_PASSWORD_FILE;\n` +
      `fs.writeFileSync(${JSON.stringify(seen)}, JSON.stringify({ password: file ? fs.readFileSync(file, 'utf8') : null, inEnv: process.env.PIPELINE_SASL_PASSWORD ?? null }));\n` +
      `setTimeout(() => {}, 120000);\n`,
  );
  let log: Log;
  let terminals: PipelineTerminals;

  before(() => {
    log = new Log('Kafka Flink Lab (terminal test)');
    terminals = new PipelineTerminals(cli, log);
  });
  after(() => {
    terminals.dispose();
    log.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('names only a 0600 file in its environment, which its process reads, and which goes when the terminal closes', async function () {
    this.timeout(40_000);
    assert.equal(await terminals.start('generator', ['generate'], { password, show: false }), 'started');
    const terminal = vscode.window.terminals.find((t) => t.name === TERMINAL_NAMES.generator);
    assert.ok(terminal, 'the generator terminal exists');
    const env = ('env' in terminal.creationOptions ? terminal.creationOptions.env : undefined) ?? {};
    assert.ok(!JSON.stringify(env).includes(password), `the password is in the terminal's creation options: ${JSON.stringify(env)}`);
    const file = env.PIPELINE_SASL_PASSWORD_FILE;
    assert.ok(file, `the environment names the password file: ${JSON.stringify(env)}`);
    assert.equal(statSync(file).mode & 0o777, 0o600, 'the file is the user’s alone');
    assert.equal(statSync(dirname(file)).mode & 0o777, 0o700, 'and so is its folder');

    const read = await until(
      async () =>
        existsSync(seen) ? (JSON.parse(readFileSync(seen, 'utf8')) as { password: string | null; inEnv: string | null }) : undefined,
      20_000,
      () => 'the terminal’s process did not start',
    );
    assert.deepEqual(read, { password, inEnv: null }, 'the process read the password from the file, not its environment');

    terminal.dispose();
    await until(
      async () => (existsSync(file) ? undefined : true),
      10_000,
      () => `${file} is still there after the terminal closed`,
    );
    assert.equal(existsSync(dirname(file)), false, 'its folder went too');
  });
});
