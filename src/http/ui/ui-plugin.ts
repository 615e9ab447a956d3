// Serves the web UI under /ui/: the bundled assets, and index.html for every other /ui/ path
// (single-page-app fallback: the browser router owns those URLs). The UI talks only to the
// REST/DICOMweb surfaces; these routes are public because they hold no data, only code.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../../core/log.ts';
import { bundleUi, type UiAsset } from './ui-bundle.ts';
import { DEFAULT_OHIF_DIR, ohifInstalled, ohifPlugin } from './ohif-plugin.ts';

export interface UiPluginOptions {
  logger: Logger;
  /** Folder holding index.html and src/ (default: web/ of this checkout). */
  webRoot?: string;
  /** Also answer GET / with a redirect to /ui/ (default true). */
  redirectRoot?: boolean;
  minify?: boolean;
  /** Show "Sign in with <label>" linking to GET /auth/oidc/login (when config.auth.oidc is set). */
  oidcLogin?: { label: string };
  /** The unpacked OHIF viewer served under /ohif/ (default vendor/ohif; null: no /ohif/ routes). */
  ohifDir?: string | null;
}

/** The shell with the server-side settings the UI reads at start (meta tags, no inline script: CSP). */
export function shellWithSettings(html: Buffer, opts: Pick<UiPluginOptions, 'oidcLogin'> & { ohif?: boolean }): Buffer {
  const metas: string[] = [];
  if (opts.oidcLogin !== undefined) metas.push(`<meta name="dicomgate-oidc-login" content="${opts.oidcLogin.label.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)}">`);
  // The study page offers "Open in OHIF" only when the viewer is installed.
  if (opts.ohif === true) metas.push('<meta name="dicomgate-ohif" content="/ohif/">');
  if (metas.length === 0) return html;
  return Buffer.from(html.toString('utf8').replace('</head>', `${metas.join('\n')}\n</head>`));
}

export const UI_PREFIX = '/ui';

// The UI loads nothing from elsewhere (air-gapped sites) and runs no inline script; images
// drawn from frames are blob:/data: URLs. Framing is refused (clickjacking).
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

export const uiPlugin: FastifyPluginAsync<UiPluginOptions> = async (app, opts) => {
  const ohifDir = opts.ohifDir === undefined ? DEFAULT_OHIF_DIR : opts.ohifDir;
  const ohif = ohifDir !== null && ohifInstalled(ohifDir);
  if (ohifDir !== null) await app.register(ohifPlugin, { dir: ohifDir });
  let bundle: Promise<Map<string, UiAsset>> | undefined;
  const assets = () => {
    bundle ??= bundleUi(opts.webRoot, opts.minify === undefined ? {} : { minify: opts.minify }).then((files) => {
      const shell = files.get('index.html')!;
      files.set('index.html', { ...shell, body: shellWithSettings(shell.body, { ...opts, ohif }) });
      return files;
    }).catch((err: unknown) => {
      opts.logger.error('web UI bundle failed', { err });
      bundle = undefined; // try again on the next request (a fixed source file)
      throw err;
    });
    return bundle;
  };
  // Start bundling now so the first page load does not wait for it; errors surface per request.
  assets().catch(() => undefined);

  async function send(req: FastifyRequest, reply: FastifyReply, name: string) {
    let files: Map<string, UiAsset>;
    try {
      files = await assets();
    } catch {
      return reply.code(500).header('Cache-Control', 'no-store').type('text/plain; charset=utf-8').send('The web interface could not be built; see the server log.');
    }
    const file = files.get(name);
    if (file === undefined) return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
    reply.header('Content-Security-Policy', CSP);
    reply.header('Content-Type', file.contentType);
    if (name === 'index.html') {
      // The shell is tiny; never cached, so a logout or an upgrade takes effect at once.
      reply.header('Cache-Control', 'no-store');
    } else {
      reply.header('Cache-Control', 'no-cache');
      reply.header('ETag', file.etag);
      if (req.headers['if-none-match'] === file.etag) return reply.code(304).send();
    }
    return reply.send(file.body);
  }

  const config = { public: true };
  if (opts.redirectRoot ?? true) app.get('/', { config }, async (_req, reply) => reply.redirect(`${UI_PREFIX}/`));
  app.get(UI_PREFIX, { config }, async (_req, reply) => reply.redirect(`${UI_PREFIX}/`));
  app.get(`${UI_PREFIX}/*`, { config }, async (req: FastifyRequest<{ Params: { '*': string } }>, reply) => {
    const rest = req.params['*'];
    // A path with an extension is an asset request; anything else is a page of the app.
    const name = /^[\w-]+\.(js|css|svg|html)$/.test(rest) ? rest : /\.\w+$/.test(rest) ? '\0missing' : 'index.html';
    return send(req, reply, name);
  });
};
