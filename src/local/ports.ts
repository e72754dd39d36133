// Ports: whether one is free, which process holds it (from /proc), and one check that says what to stop.
import { readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { commandLineOf } from './proc';
import { UserError } from '../shared/errors';
import { decodeProcAddress, readTcpTables, socketInodesOf } from './sockets';

/** True when nothing listens on host:port (we can bind it ourselves). */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const server = createServer();
    server.once('error', () => resolvePromise(false));
    server.once('listening', () => server.close(() => resolvePromise(true)));
    server.listen(port, host);
  });
}

export interface PortHolder {
  pid: number;
  command: string;
}

/** Parses /proc/net/tcp{,6} for a listening socket on `port` and returns its inodes. */
export function listeningInodes(tcpTables: string[], port: number): Set<string> {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of tcpTables) {
    for (const line of table.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      const local = fields[1];
      const state = fields[3];
      if (state === '0A' && local.endsWith(`:${hexPort}`)) inodes.add(fields[9]);
    }
  }
  return inodes;
}

/** Which process holds a listening socket on `port` (Linux /proc); undefined if it cannot be told. */
export function findPortHolder(port: number): PortHolder | undefined {
  const inodes = listeningInodes(readTcpTables(), port);
  if (inodes.size === 0) return undefined;
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    if (!socketInodesOf(Number(pid))?.some((inode) => inodes.has(inode))) continue;
    const command = shortCommand(commandLineOf(Number(pid)) ?? '?');
    return { pid: Number(pid), command: command.length > 160 ? command.slice(0, 157) + '...' : command };
  }
  return undefined;
}

const TCP_STATES: Record<string, string> = {
  '01': 'ESTABLISHED',
  '02': 'SYN_SENT',
  '03': 'SYN_RECV',
  '04': 'FIN_WAIT1',
  '05': 'FIN_WAIT2',
  '06': 'TIME_WAIT',
  '07': 'CLOSE',
  '08': 'CLOSE_WAIT',
  '09': 'LAST_ACK',
  '0A': 'LISTEN',
  '0B': 'CLOSING',
};

/** The sockets bound to `port` on this machine with their TCP state ("ESTABLISHED 127.0.0.1:8081 → 127.0.0.1:51234"), from /proc/net/tcp{,6}. */
export function socketsOnPort(tcpTables: string[], port: number): string[] {
  const found: string[] = [];
  for (const table of tcpTables)
    for (const line of table.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      const local = decodeProcAddress(fields[1]);
      if (local.port !== port) continue;
      const remote = decodeProcAddress(fields[2]);
      found.push(`${TCP_STATES[fields[3]] ?? fields[3]} ${local.address}:${local.port} → ${remote.address}:${remote.port}`);
    }
  return found;
}

export function describePortHolder(port: number): string {
  const holder = findPortHolder(port);
  if (holder) return `process ${holder.pid} (${holder.command})`;
  const sockets = socketsOnPort(readTcpTables(), port);
  return sockets.length > 0 ? `another process (sockets on the port: ${sockets.slice(0, 5).join('; ')})` : 'another process';
}

/** Waits up to `timeoutMs` for `port` on 127.0.0.1 to be free: a process that just ended may take a moment to release it. */
export async function waitForPortFree(port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await isPortFree(port)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** `java -Xmx… -Dx=y -cp … kafka.Kafka a.properties` → `java kafka.Kafka a.properties`: what a person recognises. */
export function shortCommand(commandLine: string): string {
  const words = commandLine.split(' ');
  const kept: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    if (i > 0 && /^-(X|D|XX|javaagent|Djava|server|ea)/.test(word)) continue;
    if (i > 0 && (word === '-cp' || word === '-classpath' || word === '--add-opens' || word === '--add-exports')) {
      i++;
      continue;
    }
    kept.push(word);
  }
  return kept.join(' ');
}

/** Throws, naming the process that holds it and what to do (`todo`), when `port` on 127.0.0.1 is taken. */
export async function ensurePortFree(port: number, todo: string, role?: string): Promise<void> {
  if (!(await isPortFree(port)))
    throw new UserError(`Port ${port} on 127.0.0.1${role ? ` (${role})` : ''} is already in use by ${describePortHolder(port)}: ${todo}.`);
}
