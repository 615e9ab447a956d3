// Failed responses in words a data manager understands (pure, unit-tested in test/web).
/** A sentence for a failed response: the server's message when it has one, else by status. */
export function describeFailure(status: number, body: unknown): string {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const server = [b.message, b.Message, b.Details].find((x): x is string => typeof x === 'string' && x !== '');
  switch (status) {
    case 401:
      return 'Your session has ended or the sign-in failed. Please sign in again.';
    case 403:
      return server !== undefined && b.error !== 'AUTH_FORBIDDEN' ? server : 'Your role does not allow this action.';
    case 404:
      return server !== undefined ? `Not found: ${server}` : 'Not found. It may have been deleted.';
    case 413:
      return 'The file is larger than the server accepts.';
    case 429:
      return 'Too many attempts. Wait a minute and try again.';
    default:
      if (status >= 500) return `The server could not complete this${server !== undefined ? `: ${server}` : '.'} Please try again or tell your administrator.`;
      return server ?? `The request was refused (HTTP ${status}).`;
  }
}
