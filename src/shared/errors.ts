// Errors: UserError (one sentence the user can act on), error messages, and a timeout around a promise.
/**
 * An error the user can act on: `message` is one sentence that says what went wrong and what to do.
 * Everything else (stack traces, process output) goes to `details` for logs only.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly details?: string,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Rejects with a UserError when `promise` does not settle within `ms`; nothing in the project waits forever. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UserError(`${what} did not answer within ${Math.round(ms / 1000)} s.`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
