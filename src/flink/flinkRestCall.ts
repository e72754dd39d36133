// One call of Flink's REST API, bounded in time, its failures turned into UserErrors that name the address.
import { UserError } from '../shared/errors';

/** The path of a REST resource of one job, its id URL-encoded (ids come from the REST API, never from the user). */
export const jobPath = (jobId: string, rest = '') => `/jobs/${encodeURIComponent(jobId)}${rest}`;

/**
 * One REST call with a hard timeout. A JobManager that does not answer, or answers with an error status, becomes
 * one UserError naming the address (Flink's own error text, when it sent one, goes into the message's end).
 */
export async function restJson<T>(
  restUrl: string,
  path: string,
  timeoutMs: number,
  init?: { method: 'POST' | 'PATCH'; body?: unknown },
): Promise<T> {
  const base = restUrl.replace(/\/$/, '');
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, {
      method: init?.method ?? 'GET',
      headers: init?.body !== undefined ? { 'content-type': 'application/json' } : undefined,
      body: init?.body !== undefined ? JSON.stringify(init.body) : undefined,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new UserError(
      `Flink's REST API at ${restUrl} does not answer (${(error as Error).name === 'TimeoutError' ? 'timeout' : 'not reachable'}).`,
    );
  }
  const text = await response.text();
  if (!response.ok) {
    let detail = '';
    try {
      const errors = (JSON.parse(text) as { errors?: unknown[] }).errors;
      if (Array.isArray(errors)) detail = errors.map(String).join(' ').split('\n')[0].slice(0, 300);
    } catch {
      /* not JSON */
    }
    throw new UserError(
      `Flink's REST API at ${restUrl} answered ${response.status} for ${path.split('?')[0]}${detail ? `: ${detail}` : ''}.`,
      text.slice(0, 4000),
    );
  }
  return (text ? JSON.parse(text) : {}) as T;
}
