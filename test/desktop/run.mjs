#!/usr/bin/env node
// `npm run test:desktop`: the same extension-host tests as the e2e suite (test/exthost), in desktop VS Code through
// @vscode/test-electron. It downloads VS Code from update.code.visualstudio.com into .vscode-test/ on first use; where
// that is not reachable, set VSCODE_EXECUTABLE to an installed VS Code binary (e.g. /usr/share/code/code), or use
// `npm run test:e2e`, which runs these tests in code-server instead.
// On Linux without a display, run it under a virtual one: `xvfb-run -a npm run test:desktop`.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTests } from '@vscode/test-electron';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function fail(message) {
  console.error(`test:desktop: ${message}`);
  process.exit(1);
}

const build = spawnSync(process.execPath, [join(repo, 'esbuild.mjs'), '--tests'], { cwd: repo, stdio: 'inherit' });
if (build.status !== 0) fail('building the extension and its tests failed (see above).');

if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
  console.error('test:desktop: no DISPLAY; if VS Code fails to start, run `xvfb-run -a npm run test:desktop`.');
}

const workspace = mkdtempSync(join(tmpdir(), 'kfl-desktop-'));
const userData = join(workspace, '.user-data');
mkdirSync(userData, { recursive: true });
let code = 1;
try {
  code = await runTests({
    extensionDevelopmentPath: repo,
    extensionTestsPath: join(repo, 'out', 'test', 'exthost', 'index.js'),
    vscodeExecutablePath: process.env.VSCODE_EXECUTABLE || undefined,
    version: process.env.VSCODE_VERSION || undefined,
    launchArgs: [
      workspace,
      '--disable-extensions',
      '--disable-workspace-trust',
      '--skip-welcome',
      '--skip-release-notes',
      `--user-data-dir=${userData}`,
    ],
  });
} catch (error) {
  const text = String(error?.message ?? error);
  if (
    /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|getaddrinfo|Failed to download|TimeoutError|socket hang up|certificate/i.test(
      text,
    )
  ) {
    fail(
      `could not download VS Code (${text.split('\n')[0]}).\n` +
        '  This machine cannot reach update.code.visualstudio.com. Either set VSCODE_EXECUTABLE to an installed VS Code\n' +
        '  (VSCODE_EXECUTABLE=/usr/share/code/code npm run test:desktop), or run the same tests in code-server:\n' +
        '  npm run test:e2e (it needs only npm and apt).',
    );
  }
  if (error?.code !== undefined || /Test run failed/i.test(text)) fail(`extension-host tests failed (${text}).`);
  fail(`VS Code did not run the tests: ${text}`);
} finally {
  rmSync(workspace, { recursive: true, force: true });
}
console.log(`test:desktop: extension-host tests passed (exit ${code}).`);
process.exit(code);
