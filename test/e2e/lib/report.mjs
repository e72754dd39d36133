// Pass/fail bookkeeping for the e2e run: one line per check as it finishes, a summary at the end.
export class Report {
  constructor() {
    this.results = [];
    this.started = Date.now();
  }

  pass(suite, name, ms, note = '') {
    this.results.push({ suite, name, ok: true, ms });
    console.log(`PASS  [${suite}] ${name}${ms !== undefined ? ` (${(ms / 1000).toFixed(1)} s)` : ''}${note ? ` — ${note}` : ''}`);
  }

  fail(suite, name, reason, ms) {
    this.results.push({ suite, name, ok: false, ms, reason });
    console.log(
      `FAIL  [${suite}] ${name}${ms !== undefined ? ` (${(ms / 1000).toFixed(1)} s)` : ''}: ${String(reason).split('\n').slice(0, 8).join('\n      ')}`,
    );
  }

  get passed() {
    return this.results.filter((r) => r.ok).length;
  }

  get failed() {
    return this.results.filter((r) => !r.ok).length;
  }

  summaryLine() {
    return `e2e: ${this.passed} passed, ${this.failed} failed`;
  }
}
