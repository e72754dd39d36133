// Runs test/exthost (mocha) inside code-server's real extension host. code-server has no --extensionTestsPath
// flag, but its workbench takes `?payload=[["extensionDevelopmentPath",…],["extensionTestsPath",…]]` when the
// server runs with `--vscode-option enable-smoke-test-driver`; the exit code comes back through the
// `codeAutomationExit` function the workbench calls, and the tests' console output reaches the page console.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const LINE = /exthost (PASS|FAIL) (.*)$/;
const SUMMARY = /exthost: (\d+) passed, (\d+) failed/;

export async function runExtensionHostTests({ context, server, repo, testsEntry, workspace, report, shots, timeoutMs = 180_000 }) {
  const started = Date.now();
  const page = await context.newPage();
  const lines = [];
  let summary;
  const log = [];
  page.on('console', (message) => {
    const text = message.text().replace(/%c/g, '');
    log.push(text);
    const match = LINE.exec(text);
    if (match) lines.push({ ok: match[1] === 'PASS', text: match[2].trim() });
    const total = SUMMARY.exec(text);
    if (total) summary = { passed: Number(total[1]), failed: Number(total[2]) };
  });
  let resolveExit;
  const exited = new Promise((r) => (resolveExit = r));
  await page.exposeFunction('codeAutomationExit', (code) => resolveExit(code));
  const host = new URL(server.url).host;
  const payload = [
    ['extensionDevelopmentPath', `vscode-remote://${host}${repo}`],
    ['extensionTestsPath', `vscode-remote://${host}${testsEntry}`],
  ];
  mkdirSync(workspace, { recursive: true });
  await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
  const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), timeoutMs))]);
  // The host's console lines may trail the exit call by a moment.
  const deadline = Date.now() + 3000;
  while (!summary && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await page.screenshot({ path: join(shots, '00-extension-host-tests.png') }).catch(() => {});
  writeFileSync(join(shots, 'extension-host-console.log'), log.join('\n'));
  await page.close();
  for (const line of lines) {
    const [title, ...reason] = line.text.split(': ');
    if (line.ok) report.pass('exthost', line.text);
    else report.fail('exthost', title, reason.join(': '));
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (code === 'timeout')
    report.fail(
      'exthost',
      'the extension-host test run finished',
      `no codeAutomationExit within ${timeoutMs / 1000} s (see extension-host-console.log)`,
    );
  else if (lines.length === 0)
    report.fail(
      'exthost',
      'the extension-host tests ran',
      `exit code ${code} and no test lines; the runner did not load (see extension-host-console.log)`,
    );
  else if (code !== 0 && !lines.some((l) => !l.ok)) report.fail('exthost', 'the extension-host test run exited 0', `exit code ${code}`);
  console.log(`exthost: exit code ${code} after ${seconds} s${summary ? ` (${summary.passed} passed, ${summary.failed} failed)` : ''}`);
  return { code, lines };
}
