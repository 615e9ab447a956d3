// Every call the UI makes goes through here: same-origin fetch with the session cookie, the
// CSRF token echoed on writes, and failures turned into sentences a data manager understands.
import { describeFailure } from './failure-text.ts';

export { describeFailure };

export interface Me {
  username: string;
  roles: string[];
  projects: string[];
  via: string;
  csrfToken: string | null;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;
let onUnauthorized: () => void = () => undefined;

export function setCsrfToken(t: string | null): void {
  csrfToken = t;
}
export function setUnauthorizedHandler(f: () => void): void {
  onUnauthorized = f;
}

function csrfFromCookie(): string | null {
  const m = /(?:^|;\s*)dicomgate_csrf=([^;]+)/.exec(document.cookie);
  return m ? m[1] : null;
}

/**
 * Without a session the server answers 401 with a Basic challenge, and a browser answering a
 * credentialed request's challenge pops up its own password dialog (Fetch standard, HTTP-network-
 * or-cache fetch, 401 step). The readable CSRF cookie lives exactly as long as the session cookie,
 * so when it is absent the request goes without credentials: no dialog, our sign-in page instead.
 * (POST /auth/login is public and never challenges; it must carry credentials for its cookies.)
 */
export function credentialsMode(): RequestCredentials {
  return csrfFromCookie() === null ? 'omit' : 'same-origin';
}

export function hasSessionCookie(): boolean {
  return csrfFromCookie() !== null;
}

export function writeHeaders(): Record<string, string> {
  const t = csrfToken ?? csrfFromCookie();
  return t === null ? {} : { 'X-CSRF-Token': t };
}

async function bodyOf(res: Response): Promise<unknown> {
  const type = res.headers.get('content-type') ?? '';
  if (type.includes('json')) return res.json().catch(() => undefined);
  return undefined;
}

export async function request(method: string, path: string, init: { json?: unknown; headers?: Record<string, string>; body?: BodyInit } = {}): Promise<Response> {
  const headers: Record<string, string> = { ...(method === 'GET' || method === 'HEAD' ? {} : writeHeaders()), ...init.headers };
  let body = init.body;
  if (init.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(init.json);
  }
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body ?? null, credentials: path === '/auth/login' ? 'same-origin' : credentialsMode(), cache: 'no-store' });
  } catch {
    throw new ApiError('The server cannot be reached. Check the network connection.', 0, undefined);
  }
  if (!res.ok) {
    const b = await bodyOf(res);
    if (res.status === 401 && path !== '/auth/login') onUnauthorized();
    const code = typeof b === 'object' && b !== null ? (b as { error?: string }).error : undefined;
    throw new ApiError(describeFailure(res.status, b), res.status, code);
  }
  return res;
}

export async function getJson<T>(path: string, headers?: Record<string, string>): Promise<T> {
  return (await request('GET', path, headers ? { headers } : {})).json() as Promise<T>;
}

export async function postJson<T>(path: string, json: unknown): Promise<T> {
  const res = await request('POST', path, { json });
  return (res.status === 204 ? undefined : await res.json()) as T;
}
