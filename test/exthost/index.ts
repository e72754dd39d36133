// Mocha runner for tests that run inside a real VS Code extension host: code-server (test/e2e/run.mjs, through
// the workbench's `payload` route) or desktop VS Code (test/desktop/run.mjs, @vscode/test-electron).
// VS Code calls `run()`; a rejected promise is a failed run. Every test prints one line, `exthost PASS <title>` or
// `exthost FAIL <title>: <reason>`, and the run ends with `exthost: N passed, M failed`, which the e2e runner
// counts from the browser console.
import Mocha from 'mocha';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 30_000, color: false, reporter: 'dot' });
  // The dot reporter stays quiet; the lines below are what the runners read.
  mocha.reporter(
    class {
      constructor(runner: Mocha.Runner) {
        let passed = 0;
        let failed = 0;
        runner.on('pass', (test) => {
          passed++;
          console.log(`exthost PASS ${test.fullTitle()} (${test.duration ?? 0} ms)`);
        });
        runner.on('fail', (test, error: Error & { actual?: unknown; expected?: unknown; generatedMessage?: boolean }) => {
          failed++;
          // One line: assert's diff would spill over many console lines, so an assertion's values are given compactly.
          const values =
            error && 'actual' in error && 'expected' in error
              ? ` (actual ${JSON.stringify(error.actual)?.slice(0, 300)}, expected ${JSON.stringify(error.expected)?.slice(0, 300)})`
              : '';
          console.log(`exthost FAIL ${test.fullTitle()}: ${(error?.message ?? String(error)).split('\n')[0]}${values}`);
        });
        runner.on('end', () => console.log(`exthost: ${passed} passed, ${failed} failed`));
      }
    } as unknown as Mocha.ReporterConstructor,
  );

  for (const name of readdirSync(__dirname).sort()) {
    if (name.endsWith('.test.js')) mocha.addFile(join(__dirname, name));
  }
  return new Promise((resolvePromise, reject) => {
    try {
      mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} extension-host test(s) failed`)) : resolvePromise()));
    } catch (error) {
      console.log(`exthost FAIL mocha could not run: ${String(error)}`);
      reject(error);
    }
  });
}
