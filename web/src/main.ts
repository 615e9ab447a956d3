// Entry point: asks the server who we are, draws the frame (header, navigation, user and role),
// and hands the main area to the page for the current URL.
import './styles.css';
import { ApiError, getJson, postJson, setCsrfToken, setUnauthorizedHandler, type Me } from './api.ts';
import { clear, h } from './dom.ts';
import { auditPage } from './pages/audit.ts';
import { brokerPage } from './pages/broker.ts';
import { projectsPage } from './pages/projects.ts';
import { archivePage } from './pages/archive.ts';
import { jobsPage } from './pages/jobs.ts';
import { loginPage } from './pages/login.ts';
import { statusPage } from './pages/status.ts';
import { studyPage } from './pages/study.ts';
import { uploadPage } from './pages/upload.ts';
import { usersPage } from './pages/users.ts';
import { viewerPage } from './pages/viewer.ts';
import { BASE, currentPath, interceptLinks, navigate, render, route, setOutlet } from './router.ts';
import { currentUser, hasRole, READERS, setUser } from './session.ts';

const app = document.getElementById('app')!;

function navItems(): [string, string][] {
  const items: [string, string][] = [];
  if (hasRole(...READERS)) items.push(['', 'Archive']);
  if (hasRole('uploader')) items.push(['upload', 'Upload']);
  items.push(['jobs', 'Jobs']);
  if (hasRole(...READERS)) items.push(['projects', 'Projects']);
  // The broker role itself: administrators are not honest brokers unless given the role.
  if (currentUser()?.roles.includes('broker') || currentUser()?.via === 'dev') items.push(['broker', 'Honest broker']);
  if (hasRole(...READERS)) items.push(['status', 'System']);
  if (hasRole('admin')) items.push(['audit', 'Audit log']);
  // Admins manage everyone; other password users their own API tokens.
  if (hasRole('admin')) items.push(['users', 'Users']);
  else if (currentUser()?.via === 'session') items.push(['users', 'API tokens']);
  return items;
}

async function logout(): Promise<void> {
  try {
    await postJson('/auth/logout', {});
  } catch {
    // Already signed out: nothing to undo.
  }
  setUser(null);
  setCsrfToken(null);
  navigate('login');
}

function frame(path: string): HTMLElement {
  clear(app);
  const me = currentUser();
  const main = h('main', { id: 'main', tabindex: '-1' });
  if (me === null || path === 'login') {
    app.append(h('header', { class: 'top' }, h('span', { class: 'brand' }, 'dicomgate')), main);
    return main;
  }
  const nav = h(
    'nav',
    { 'aria-label': 'Main' },
    navItems().map(([p, label]) => h('a', { href: BASE + p, 'aria-current': (p === '' ? path === '' || path.startsWith('studies/') : path.startsWith(p)) ? 'page' : undefined }, label)),
  );
  const user = h(
    'div',
    { class: 'user' },
    h('span', { 'data-testid': 'user' }, me.username),
    ' ',
    h('span', { class: 'role', 'data-testid': 'roles' }, me.roles.join(', ')),
    ' ',
    me.via === 'session' ? h('button', { type: 'button', onclick: () => void logout() }, 'Sign out') : null,
  );
  app.append(h('header', { class: 'top' }, h('a', { class: 'brand', href: BASE }, 'dicomgate'), nav, user), main);
  return main;
}

function home(): string {
  if (hasRole(...READERS)) return '';
  if (hasRole('uploader')) return 'upload';
  return 'jobs';
}

route('login', loginPage(async (me) => {
  setUser(me);
  navigate(home(), true);
}));
route('', (main, p) => (hasRole(...READERS) ? archivePage(main, p) : navigate(home(), true)));
route('studies/:id', studyPage);
route('viewer/:study', viewerPage);
route('viewer/:study/:series', viewerPage);
route('upload', uploadPage);
route('jobs', jobsPage);
route('audit', auditPage);
route('status', statusPage);
route('projects', projectsPage);
route('broker', brokerPage);
route('users', usersPage);

setOutlet(frame);
setUnauthorizedHandler(() => {
  // Before the first /auth/me answer the boot code decides; afterwards a 401 means the session ended.
  if (currentPath() === 'login' || currentUser() === null) return;
  setUser(null);
  navigate('login', true);
});
interceptLinks(app);

async function boot(): Promise<void> {
  try {
    const me = await getJson<Me>('/auth/me');
    setUser(me);
    setCsrfToken(me.csrfToken);
    if (currentPath() === 'login') navigate(home(), true);
    else await render();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      if (currentPath() !== 'login') history.replaceState(null, '', BASE + 'login');
      await render();
      return;
    }
    app.textContent = e instanceof Error ? e.message : 'The interface could not start.';
  }
}
void boot();
