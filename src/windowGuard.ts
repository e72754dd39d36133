// The window guard: a small process the extension host forks when a Flink SQL statement starts. It holds what the
// window runs (session, jobs) as the host tells it over IPC. When the host ends without saying goodbye — code-server
// ends the extension host on a reload or a closed tab and `deactivate()` never runs (coder/code-server#2882,
// microsoft/vscode#120691) — the IPC channel closes, and the guard cancels those jobs through Flink's REST API and
// closes the session, so that no job of a closed window is left RUNNING. A goodbye (the host stopped them itself) ends it.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { stateRoot } from './config/paths';
import { cancelJob } from './flink/flinkJobControl';
import { jobPath, restJson } from './flink/flinkRestCall';
import { SqlGatewayClient } from './flink/sqlGatewayClient';
import { guardHasWork, parseGuardMessage, type GuardState } from './flink/windowGuardState';
import { LocalFlinkCluster } from './local/flinkCluster';
import { readGatewayCredentials } from './local/sqlGateway';

/** Each call's limit, and the whole clean-up's: the guard never outlives its window by more. */
const CALL_TIMEOUT_MS = 5000;
const CLEANUP_TIMEOUT_MS = 20_000;

let state: GuardState | undefined;

function log(line: string): void {
  if (!state) return;
  try {
    const dir = join(stateRoot(state.workspace), 'logs');
    mkdirSync(dir, { recursive: true });
    appendFileSync(join(dir, 'window-guard.log'), `${new Date().toISOString()} [pid ${process.pid}] ${line}\n`);
  } catch {
    /* a log that cannot be written must not stop the clean-up */
  }
}

async function cleanUp(): Promise<void> {
  if (!guardHasWork(state)) return;
  const { jobs, restUrl, session, gateway, local, workspace } = state;
  log(`the extension host ended without stopping its statements: ${jobs.length} job(s), session ${session ?? 'none'}`);
  if (restUrl)
    await Promise.all(
      jobs.map((job) =>
        cancelJob(restUrl, job, CALL_TIMEOUT_MS).then(
          () => log(`cancelled job ${job}`),
          // A window that began to shut down may have stopped it already: said so, not taken for a failure.
          (error: Error) =>
            restJson<{ state?: string }>(restUrl, jobPath(job, ''), CALL_TIMEOUT_MS).then(
              ({ state }) => log(state && state !== 'RUNNING' ? `job ${job} had already ended (${state})` : `job ${job}: ${error.message}`),
              () => log(`job ${job}: ${error.message}`),
            ),
        ),
      ),
    );
  if (session && gateway) {
    const credentials = local ? readGatewayCredentials(new LocalFlinkCluster(workspace)) : undefined;
    await new SqlGatewayClient(gateway, credentials, CALL_TIMEOUT_MS).closeSession(session).then(
      () => log(`closed session ${session}`),
      (error: Error) => log(`session ${session}: ${error.message}`),
    );
  }
}

process.on('message', (message) => {
  const parsed = parseGuardMessage(message);
  if (!parsed) return;
  if (parsed.kind === 'bye') process.exit(0);
  state = parsed.state;
});

process.on('disconnect', () => {
  setTimeout(() => process.exit(1), CLEANUP_TIMEOUT_MS).unref();
  void cleanUp().finally(() => process.exit(0));
});
