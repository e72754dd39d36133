// What the window guard (src/windowGuard.ts) is told to stop when the extension host ends without its goodbye: the
// window's Flink SQL session and the jobs its statements run. Plain data and the checks on the messages that carry it.

export interface GuardState {
  /** The SQL Gateway's origin (none before a session opened), and whether it is the local one (whose client certificate is in the workspace). */
  gateway?: string;
  local: boolean;
  /** The workspace whose `.pipeline/` holds the local gateway's credentials and the guard's log. */
  workspace: string;
  /** The session the statements run in, closed last (that closes every operation still open in it). */
  session?: string;
  /** Flink's REST API where the jobs run: the local cluster's; none for a gateway a setting names. */
  restUrl?: string;
  /** The jobs of statements still running: each is cancelled. */
  jobs: string[];
}

export type GuardMessage = { kind: 'state'; state: GuardState } | { kind: 'bye' };

const JOB_ID = /^[0-9a-f]{32}$/;
const SESSION = /^[0-9a-f-]{36}$/;

/** A message from the extension host, checked field by field (the guard cancels jobs with what it holds); else undefined. */
export function parseGuardMessage(message: unknown): GuardMessage | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const m = message as Record<string, unknown>;
  if (m.kind === 'bye') return { kind: 'bye' };
  if (m.kind !== 'state' || typeof m.state !== 'object' || m.state === null) return undefined;
  const s = m.state as Record<string, unknown>;
  if (s.gateway !== undefined && (typeof s.gateway !== 'string' || !/^https?:\/\/[^/]+$/.test(s.gateway))) return undefined;
  if (typeof s.local !== 'boolean' || typeof s.workspace !== 'string' || !s.workspace) return undefined;
  if (s.session !== undefined && (typeof s.session !== 'string' || !SESSION.test(s.session) || s.gateway === undefined)) return undefined;
  if (s.restUrl !== undefined && (typeof s.restUrl !== 'string' || !/^http:\/\/127\.0\.0\.1:\d+$/.test(s.restUrl))) return undefined;
  if (!Array.isArray(s.jobs) || !s.jobs.every((j) => typeof j === 'string' && JOB_ID.test(j))) return undefined;
  return {
    kind: 'state',
    state: {
      ...(s.gateway !== undefined ? { gateway: s.gateway as string } : {}),
      local: s.local,
      workspace: s.workspace,
      ...(s.session !== undefined ? { session: s.session as string } : {}),
      ...(s.restUrl !== undefined ? { restUrl: s.restUrl as string } : {}),
      jobs: [...new Set(s.jobs as string[])],
    },
  };
}

/** A session as the editor holds it: its handle, its gateway, whether that is the local one. */
export interface GuardedSession {
  handle: string;
  gateway: string;
  local: boolean;
}

/**
 * What the guard is told: the jobs of the statements still running, the REST API of the local cluster when one of
 * them ran there, and their session. The session open now, else the last one the guard was told of while statements
 * still run: a window shutting down closes its session before its statements have all ended, and a host killed then
 * must leave the guard able to stop them.
 */
export function guardStateOf(o: {
  workspace: string;
  running: { jobId?: string; local: boolean }[];
  open: GuardedSession | undefined;
  last: GuardedSession | undefined;
  localRestUrl: string;
}): GuardState {
  const session = o.open ?? (o.running.length > 0 ? o.last : undefined);
  return {
    ...(session ? { gateway: session.gateway } : {}),
    local: session?.local ?? true,
    workspace: o.workspace,
    ...(session && o.running.length > 0 ? { session: session.handle } : {}),
    ...(o.running.some((r) => r.local) || session?.local ? { restUrl: o.localRestUrl } : {}),
    jobs: o.running.flatMap((r) => (r.jobId ? [r.jobId] : [])),
  };
}

/** Whether there is anything to stop: no job and no session is an idle guard. */
export function guardHasWork(state: GuardState | undefined): state is GuardState {
  return state !== undefined && (state.jobs.length > 0 || state.session !== undefined);
}
