import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { CommittedFile } from '../../src/flink/flinkCheckpointRows';
import { repoRoot } from './cli';

/** A recording of test/fixtures/flink/record.mjs: Flink's REST answers per sample, by request path. */
export interface FlinkFixture {
  name: string;
  how: string;
  recordedAt: string;
  restUrl: string;
  samples: { requests: number; elapsedMs: number; answers: Record<string, { status: number; body: unknown }> }[];
  /** Committed output files at the end, paths relative to the job's output folder. */
  files: (CommittedFile & { path: string })[];
}

export function loadFlinkFixture(name: string): FlinkFixture {
  return JSON.parse(readFileSync(join(repoRoot, 'test', 'fixtures', 'flink', `${name}.json`), 'utf8')) as FlinkFixture;
}

/**
 * A stand-in JobManager on 127.0.0.1 that answers each request with what the real one answered in the chosen
 * sample; a request the recording does not hold gets a 404 and is listed in `misses`.
 */
export class FixtureRestServer {
  private server: Server | undefined;
  sample = 0;
  readonly misses: string[] = [];
  readonly requests: string[] = [];

  constructor(private readonly fixture: FlinkFixture) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const path = req.url ?? '/';
      this.requests.push(`${req.method} ${path}`);
      const answer = this.fixture.samples[this.sample]?.answers[path];
      if (!answer) {
        this.misses.push(path);
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: ['Not found: not in the recording'] }));
        return;
      }
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
