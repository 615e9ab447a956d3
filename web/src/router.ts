// History-API routing under /ui/. URLs hold only opaque resource ids (Orthanc-style hashes),
// never names, patient IDs or dates; search criteria stay in memory, not in the URL.
export type Cleanup = (() => void) | void;
export type Page = (main: HTMLElement, params: Record<string, string>) => Cleanup | Promise<Cleanup>;

interface Route {
  pattern: RegExp;
  keys: string[];
  page: Page;
}

export const BASE = '/ui/';
const routes: Route[] = [];
let current: Cleanup;
let outlet: (path: string) => HTMLElement = () => document.body;

export function route(path: string, page: Page): void {
  const keys: string[] = [];
  const pattern = new RegExp('^' + path.replace(/:(\w+)/g, (_m, k: string) => (keys.push(k), '([^/]+)')) + '$');
  routes.push({ pattern, keys, page });
}

export function setOutlet(f: (path: string) => HTMLElement): void {
  outlet = f;
}

export function navigate(path: string, replace = false): void {
  const url = BASE + path.replace(/^\//, '');
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  void render();
}

export function currentPath(): string {
  return location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : '';
}

export async function render(): Promise<void> {
  if (typeof current === 'function') current();
  current = undefined;
  const path = currentPath();
  const main = outlet(path);
  for (const r of routes) {
    const m = r.pattern.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    r.keys.forEach((k, i) => (params[k] = decodeURIComponent(m[i + 1])));
    current = await r.page(main, params);
    main.focus({ preventScroll: true });
    return;
  }
  main.textContent = 'This page does not exist.';
}

/** Links inside the app navigate without reloading (and stay keyboard accessible as <a>). */
export function interceptLinks(root: HTMLElement): void {
  root.addEventListener('click', (e) => {
    const a = (e.target as Element).closest('a');
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || a.hasAttribute('download')) return;
    const href = a.getAttribute('href');
    if (href === null || !href.startsWith(BASE)) return;
    e.preventDefault();
    navigate(href.slice(BASE.length));
  });
  window.addEventListener('popstate', () => void render());
}
