// The TCP sockets a process listens on, read from /proc (the proof that a server binds to loopback only, not its configuration).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface ListeningSocket {
  pid: number;
  address: string;
  port: number;
}

/** "0100007F:1F90" (little-endian IPv4) or a 32-hex-digit IPv6 address, as /proc/net/tcp{,6} print them. */
export function decodeProcAddress(hex: string): { address: string; port: number } {
  const [ip, port] = hex.toLowerCase().split(':');
  if (ip.length === 8) {
    const bytes = ip
      .match(/../g)!
      .map((b) => parseInt(b, 16))
      .reverse();
    return { address: bytes.join('.'), port: parseInt(port, 16) };
  }
  // IPv6: four 32-bit words, each little-endian.
  const words = ip.match(/.{8}/g)!.map((w) => w.match(/../g)!.reverse().join(''));
  const groups = words
    .join('')
    .match(/.{4}/g)!
    .map((g) => g.replace(/^0+(?=.)/, ''));
  let address = groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
  if (/^::ffff:[0-9a-f]{1,4}:[0-9a-f]{1,4}$/.test(address)) {
    // An IPv4-mapped address: show the IPv4 part.
    const [hi, lo] = address
      .slice(7)
      .split(':')
      .map((g) => parseInt(g, 16));
    address = `::ffff:${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return { address, port: parseInt(port, 16) };
}

/** The tables of /proc/net/tcp and tcp6 (those that can be read: none off Linux, no tcp6 without IPv6). */
export function readTcpTables(): string[] {
  const tables: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      tables.push(readFileSync(file, 'utf8'));
    } catch {
      /* not on Linux or no IPv6 */
    }
  }
  return tables;
}

/** The inodes of the sockets a process has open (from its file descriptors); undefined when they cannot be read. */
export function socketInodesOf(pid: number): string[] | undefined {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return undefined;
  }
  const inodes: string[] = [];
  for (const fd of fds) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
      if (inode) inodes.push(inode);
    } catch {
      /* fd closed meanwhile */
    }
  }
  return inodes;
}

/** Listening TCP sockets by inode (state 0A = LISTEN). */
function listeningByInode(): Map<string, { address: string; port: number }> {
  const byInode = new Map<string, { address: string; port: number }>();
  for (const table of readTcpTables()) {
    for (const line of table.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== '0A') continue;
      byInode.set(fields[9], decodeProcAddress(fields[1]));
    }
  }
  return byInode;
}

/** Every TCP socket the given processes listen on (from their open file descriptors). */
export function listeningSockets(pids: number[]): ListeningSocket[] {
  const byInode = listeningByInode();
  const sockets: ListeningSocket[] = [];
  for (const pid of pids) {
    for (const inode of new Set(socketInodesOf(pid) ?? [])) {
      const socket = byInode.get(inode);
      if (socket) sockets.push({ pid, ...socket });
    }
  }
  return sockets;
}

export function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.');
}
