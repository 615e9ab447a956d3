// Every route of the assembled server, enumerated through fastify's onRoute hook: each declares a
// policy; without credentials each non-public route is 401; each role outside a route's policy is 403.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { excludedRoles, type Access } from '../../src/auth/roles.ts';
import { isPublicRoute, DEFAULT_PUBLIC_ROUTES } from '../../src/http/auth-plugin.ts';
import { buildHarness, concreteUrl } from './app-harness.ts';
import { fullSurfaceOptions } from './full-surfaces.ts';

test('every registered route: declared policy, 401 without credentials, 403 for roles outside it', async () => {
  const full = await fullSurfaceOptions();
  const h = await buildHarness(full.harness);
  try {
    assert.ok(h.routes.length >= full.minRoutes, `expected at least ${full.minRoutes} routes, got ${h.routes.length}`);
    // Route destinations (admin only, reading included): enumerated here, so checked below.
    const routeStatus = h.routes.filter((r) => r.url.startsWith('/routes')).map((r) => `${r.method} ${r.url}`);
    for (const want of ['GET /routes', 'GET /routes/:name', 'GET /routes/:name/dead-letters', 'POST /routes/:name/dead-letters/:jobId/retry', 'POST /routes/:name/dead-letters/retry-all', 'POST /routes/:name/test']) {
      assert.ok(routeStatus.includes(want), `${want} registered`);
    }
    assert.ok(h.routes.filter((r) => r.url.startsWith('/routes')).every((r) => (r.config as { role?: Access }).role === 'admin'), '/routes are admin only');
    // Retrieves from remote modalities (C-MOVE) pull possibly identifiable data: broker (+admin) only.
    for (const want of ['POST /queries/:id/retrieve', 'POST /queries/:id/answers/:n/retrieve', 'POST /modalities/:name/move']) {
      const r = h.routes.find((x) => `${x.method} ${x.url}` === want);
      assert.equal((r?.config as { role?: Access } | undefined)?.role, 'broker', `${want} registered, broker only`);
    }
    const problems: string[] = [];
    for (const r of h.routes) {
      const cfg = r.config as { role?: Access; public?: boolean };
      const url = concreteUrl(r.url);
      const method = r.method as 'GET';
      if (isPublicRoute(cfg, r.url, DEFAULT_PUBLIC_ROUTES)) {
        const res = await h.app.inject({ method, url });
        if (res.statusCode === 401 || res.statusCode === 403) problems.push(`${r.method} ${r.url}: public but ${res.statusCode}`);
        continue;
      }
      if (cfg.role === undefined) {
        problems.push(`${r.method} ${r.url}: no access policy`);
        continue;
      }
      const anon = await h.app.inject({ method, url });
      if (anon.statusCode !== 401) problems.push(`${r.method} ${r.url}: ${anon.statusCode} without credentials`);
      for (const role of excludedRoles(cfg.role)) {
        const res = await h.app.inject({ method, url, headers: { authorization: h.basic(role) } });
        if (res.statusCode !== 403) problems.push(`${r.method} ${r.url}: ${res.statusCode} for ${role}`);
      }
    }
    assert.deepEqual(problems, []);
  } finally {
    await h.close();
    await full.close();
  }
});
