// Flink SQL Gateway's REST API (v4, the newest Flink 2.2 serves), over HTTPS with the workspace's client certificate: sessions, statements, result pages.
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import type { Resolved } from '../config/resolver';
import { isLoopbackUrl } from './flinkJobs';

/** The REST API version every call uses, pinned: Flink 2.2.1 serves v1 to v4. */
export const SQL_GATEWAY_API = 'v4';

/** The client half of the gateway's mutual TLS: a PKCS12 key pair, its password, the certificate to trust. */
export interface GatewayCredentials {
  pfx: Buffer;
  passphrase: string;
  ca: string;
}

export type RowKind = 'INSERT' | 'UPDATE_BEFORE' | 'UPDATE_AFTER' | 'DELETE';

export interface ResultColumn {
  name: string;
  logicalType: { type: string; nullable?: boolean };
}

export interface ResultPage {
  resultType: 'NOT_READY' | 'PAYLOAD' | 'EOS';
  isQueryResult?: boolean;
  jobID?: string;
  resultKind?: 'SUCCESS' | 'SUCCESS_WITH_CONTENT';
  results?: { columns?: ResultColumn[]; data?: { kind: RowKind; fields: unknown[] }[] };
  nextResultUri?: string;
}

/** An answer other than 2xx: the HTTP status and Flink's `errors` list (a sentence, then its stack trace as text). */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly errors: string[],
  ) {
    super(`SQL Gateway answered ${status}: ${errors[0] ?? ''}`);
  }

  /** The session is gone (closed, or expired after its idle timeout). */
  get sessionGone(): boolean {
    return this.errors.some((e) => /Session '?[^' ]+'? does not exist|Can not find the session/i.test(e));
  }
}

/** The gateway did not answer at all (not running, wrong port, TLS refused). */
export class GatewayUnreachable extends Error {}

export class SqlGatewayClient {
  constructor(
    readonly baseUrl: string,
    private readonly credentials?: GatewayCredentials,
    private readonly timeoutMs = 15_000,
  ) {}

  /** One call; `path` below the version (`/sessions/…`) or a `nextResultUri` as Flink gives it (`/v4/…`). */
  call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const url = new URL(path.startsWith(`/${SQL_GATEWAY_API}/`) ? path : `/${SQL_GATEWAY_API}${path}`, this.baseUrl);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const tls = url.protocol === 'https:';
    const send = tls ? httpsRequest : httpRequest;
    return new Promise<T>((resolve, reject) => {
      const req = send(
        url,
        {
          method,
          headers: {
            Accept: 'application/json',
            ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {}),
          },
          timeout: this.timeoutMs,
          ...(tls && this.credentials
            ? { pfx: this.credentials.pfx, passphrase: this.credentials.passphrase, ca: this.credentials.ca }
            : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = text ? JSON.parse(text) : {};
            } catch {
              json = { errors: [text.slice(0, 500)] };
            }
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) resolve(json as T);
            else reject(new GatewayError(status, ((json as { errors?: string[] }).errors ?? [`HTTP ${status}`]).map(String)));
          });
          res.on('error', (e) => reject(new GatewayUnreachable(e.message)));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs / 1000} s`)));
      req.on('error', (e) => reject(new GatewayUnreachable(`${url.origin}: ${e.message}`)));
      req.end(payload);
    });
  }

  info(): Promise<{ productName: string; version: string }> {
    return this.call('GET', '/info');
  }

  async openSession(properties: Record<string, string>, sessionName = 'kafka-flink-lab'): Promise<string> {
    const answer = await this.call<{ sessionHandle: string }>('POST', '/sessions', { sessionName, properties });
    return answer.sessionHandle;
  }

  heartbeat(session: string): Promise<unknown> {
    return this.call('POST', `/sessions/${session}/heartbeat`, {});
  }

  closeSession(session: string): Promise<unknown> {
    return this.call('DELETE', `/sessions/${session}`);
  }

  async submit(session: string, statement: string): Promise<string> {
    const answer = await this.call<{ operationHandle: string }>('POST', `/sessions/${session}/statements`, { statement });
    return answer.operationHandle;
  }

  async status(session: string, operation: string): Promise<string> {
    return (await this.call<{ status: string }>('GET', `/sessions/${session}/operations/${operation}/status`)).status;
  }

  /** A result page: the first one by token 0, the next ones by the `nextResultUri` the previous page gave. */
  fetch(session: string, operation: string, next?: string): Promise<ResultPage> {
    return this.call('GET', next ?? `/sessions/${session}/operations/${operation}/result/0?rowFormat=JSON`);
  }

  /** Closing an operation is what cancels its job (a streaming SELECT); `cancel` fails once it says FINISHED. */
  closeOperation(session: string, operation: string): Promise<unknown> {
    return this.call('DELETE', `/sessions/${session}/operations/${operation}/close`);
  }
}

/** GET /info, or undefined when the gateway does not answer (or refuses the credentials). */
export function fetchGatewayInfo(baseUrl: string, credentials: GatewayCredentials | undefined, timeoutMs: number) {
  return new SqlGatewayClient(baseUrl, credentials, timeoutMs).info().catch(() => undefined);
}

/**
 * Whether SQL may go to this gateway, or why not: another machine only over https, and only when the user named it
 * (--gateway, PIPELINE_SQL_GATEWAY_URL or their own settings), never because a workspace's .vscode/settings.json
 * does — the same rule as for the Flink target that a job's password follows.
 */
export function gatewayProblem(given: Resolved<string>): string | undefined {
  let url: URL;
  try {
    url = new URL(given.value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('not http');
  } catch {
    return `${given.label} ${given.value} is not a URL (e.g. https://flink.example.org:8083).`;
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackUrl(url.origin)))
    return `${given.label} ${given.value}: SQL goes to another machine only over https.`;
  if (!isLoopbackUrl(url.origin) && given.origin === 'workspace')
    return `The SQL Gateway ${url.origin} comes from ${given.label}: SQL goes to another machine only when you name it (--gateway, PIPELINE_SQL_GATEWAY_URL, or your user settings), never because a workspace's settings file does.`;
  return undefined;
}
