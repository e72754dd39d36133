// Validation of what users type or configure: topic names, group ids, numbers, bootstrap servers, retention.
/** Kafka's own rule (Topic.validate): 1–249 characters of [a-zA-Z0-9._-], and not "." or "..". */
export function validateTopicName(name: string): string | undefined {
  if (name.length === 0) return 'A topic name cannot be empty.';
  if (name.length > 249) return `A topic name can have at most 249 characters (this one has ${name.length}).`;
  if (name === '.' || name === '..') return 'A topic name cannot be "." or "..".';
  const bad = [...name].filter((c) => !/[a-zA-Z0-9._-]/.test(c));
  if (bad.length > 0) {
    const shown = [...new Set(bad)].map((c) => (c === ' ' ? 'space' : JSON.stringify(c))).join(', ');
    return `A topic name may contain only letters, digits, ".", "_" and "-" (found ${shown}).`;
  }
  return undefined;
}

/** Consumer group ids: the characters of topic names, so that they read the same everywhere. */
export function validateGroupId(groupId: string): string | undefined {
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(groupId))
    return `A consumer group id may contain only letters, digits, ".", "_" and "-" (1–249 characters); got ${JSON.stringify(groupId)}.`;
  return undefined;
}

/** Simulated sensors of one generator: the extension's prompt and setting, and the CLI's --sensors, share it. */
export const MAX_SENSORS = 100_000;

export function validatePositiveInt(value: string | number, what: string, max = Number.MAX_SAFE_INTEGER): string | undefined {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < 1 || (typeof value === 'string' && !/^\d+$/.test(value.trim())))
    return `${what} must be a whole number of at least 1.`;
  if (n > max) return `${what} must be at most ${max}.`;
  return undefined;
}

export function validateNonNegativeNumber(value: string | number, what: string): string | undefined {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n) || n < 0 || (typeof value === 'string' && value.trim() === '')) return `${what} must be a number of at least 0.`;
  return undefined;
}

/** host:port[,host:port…] with ports in range. */
export function validateBootstrapServers(value: string): string | undefined {
  const parts = value.split(',').map((s) => s.trim());
  if (parts.length === 0 || parts.some((p) => p === '')) return 'Bootstrap servers must be a comma-separated list of host:port.';
  for (const part of parts) {
    const match = /^([A-Za-z0-9.\-_]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(part);
    if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) return `"${part}" is not a host:port address.`;
  }
  return undefined;
}

/** Retention in ms: -1 (forever) or a positive integer. */
export function validateRetentionMs(value: string): string | undefined {
  if (value.trim() === '-1') return undefined;
  return validatePositiveInt(value, 'Retention (ms)');
}
