// A stand-in for fetch in component tests: answers by "METHOD path" and records every request,
// so a test can check what the page sent (method, path, body, CSRF header) and what it drew.
import { vi } from 'vitest';

export interface Sent {
  method: string;
  path: string;
  body: unknown;
  headers: Record<string, string>;
  credentials: RequestCredentials | undefined;
}
type Answer = { status?: number; json?: unknown } | ((req: Sent) => { status?: number; json?: unknown });

export function fakeServer(routes: Record<string, Answer>): Sent[] {
  const sent: Sent[] = [];
  vi.stubGlobal('fetch', async (url: string, init: RequestInit = {}) => {
    const method = init.method ?? 'GET';
    const path = String(url);
    let body: unknown = init.body ?? undefined;
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body);
      } catch {
        // not JSON: keep the text
      }
    }
    const req: Sent = { method, path, body, headers: { ...(init.headers as Record<string, string>) }, credentials: init.credentials };
    sent.push(req);
    const r = routes[`${method} ${path}`] ?? routes[`${method} ${path.split('?')[0]}`];
    const a = typeof r === 'function' ? r(req) : (r ?? { status: 404, json: { error: 'NOT_FOUND', message: path } });
    const status = a.status ?? 200;
    if (status === 204) return new Response(null, { status });
    return new Response(JSON.stringify(a.json ?? {}), { status, headers: { 'content-type': 'application/json' } });
  });
  return sent;
}

/** Waits until the DOM shows what the page fetched (its promises settle on later ticks). */
export async function until<T>(f: () => T | null | undefined | false, what = 'condition'): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = f();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export function main(): HTMLElement {
  document.body.replaceChildren();
  const m = document.createElement('main');
  document.body.append(m);
  return m;
}

export function cell(table: Element, row: number, col: number): string {
  return (table.querySelectorAll('tbody tr')[row]?.querySelectorAll('td')[col]?.textContent ?? '').trim();
}
