// Reads the one config file (JSON or YAML), lays it over the defaults, applies command-line
// overrides, validates everything at once and returns a deep-frozen ResolvedConfig.
// No module reads configuration by itself: main.ts hands each constructor its slice.
import { accessSync, constants as fsConstants, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { AppError } from '../core/errors.ts';
import { defaultConfig, type ResolvedConfig } from './schema.ts';
import { isSecretRef, resolveSecret } from './secrets.ts';
import { readNotifications } from './read-notifications.ts';

type Json = Record<string, unknown>;

/** The `yaml` package (two dozen CommonJS files, ~20 ms to load) loads only for a YAML file: most runs have none. */
function parseYaml(text: string): unknown {
  return (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse(text);
}

const ENUMS: Record<string, readonly string[]> = {
  'storage.duplicates': ['keep-first', 'overwrite'],
  'index.kind': ['sqlite', 'postgres'],
  'log.level': ['debug', 'info', 'warn', 'error', 'silent'],
  'dicom.unauthenticatedPeers': ['known', 'any'],
};
const SECRET_PATHS = new Set(['postgres.url', 'auth.oidc.clientSecret']);
/** Objects whose keys are free (validated by the module that owns them). */
const FREE_OBJECTS = new Set(['projects', 'pipelines']);

export interface LoadOptions {
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Dotted-path overrides from flags, e.g. { 'dicom.port': 0 }; they win over the file. */
  overrides?: Record<string, unknown>;
}

export function loadConfig(opts: LoadOptions = {}): ResolvedConfig {
  const env = opts.env ?? process.env;
  const problems: string[] = [];
  const config = defaultConfig() as unknown as Json;
  if (opts.file !== undefined) {
    const fromFile = readConfigFile(opts.file);
    merge(config, fromFile, '', problems, env);
  }
  for (const [path, value] of Object.entries(opts.overrides ?? {})) {
    if (value === undefined) continue;
    setPath(config, path, value);
  }
  validateValues(config as unknown as ResolvedConfig, problems);
  if (problems.length > 0) {
    throw new AppError('CONFIG_INVALID', { detail: `${opts.file ?? 'configuration'}:\n  - ${problems.join('\n  - ')}` });
  }
  const resolved = config as unknown as ResolvedConfig;
  resolved.dataDir = resolve(resolved.dataDir);
  if (resolved.dev) resolved.auth.enabled = false;
  return deepFreeze(resolved);
}

function readConfigFile(file: string): Json {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new AppError('CONFIG_INVALID', { detail: `cannot read config file ${file}`, cause });
  }
  try {
    const parsed: unknown = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
    if (parsed === null || parsed === undefined) return {};
    if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('top level must be an object');
    return parsed as Json;
  } catch (cause) {
    throw new AppError('CONFIG_INVALID', { detail: `${file} is not valid ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'}: ${(cause as Error).message}`, cause });
  }
}

/** Lays `src` over `dst`, checking each key exists in the defaults and has the default's type. */
function merge(dst: Json, src: Json, prefix: string, problems: string[], env: NodeJS.ProcessEnv): void {
  for (const [key, value] of Object.entries(src)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (!(key in dst)) {
      problems.push(`unknown key "${path}"`);
      continue;
    }
    const current = dst[key];
    if (SECRET_PATHS.has(path)) {
      if (value === null) dst[key] = null;
      else if (!isSecretRef(value)) problems.push(`"${path}" must be a secret reference "env:NAME" or "file:/path", never the secret itself`);
      else {
        try {
          dst[key] = resolveSecret(value, env);
        } catch (e) {
          problems.push(`"${path}": ${(e as Error).message}`);
        }
      }
      continue;
    }
    if (path === 'destinations') {
      dst[key] = readDestinations(value, problems, env);
      continue;
    }
    if (path === 'watchFolders') {
      dst[key] = readWatchFolders(value, problems);
      continue;
    }
    if (path === 'notifications') {
      dst[key] = readNotifications(value, problems, env);
      continue;
    }
    if (FREE_OBJECTS.has(path)) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) problems.push(`"${path}" must be an object`);
      else dst[key] = value;
      continue;
    }
    if (isPlainObject(current)) {
      if (!isPlainObject(value)) problems.push(`"${path}" must be an object`);
      else merge(current, value, path, problems, env);
      continue;
    }
    const want = Array.isArray(current) ? 'array' : typeof current;
    const got = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
    // A null default is an optional string: it takes a string, or null to leave it unset.
    if (current === null && (got === 'string' || got === 'null')) {
      dst[key] = value;
      continue;
    }
    if (want !== got) {
      problems.push(`"${path}" must be ${want === 'array' ? 'a list' : `a ${want}`}, got ${got}`);
      continue;
    }
    dst[key] = value;
  }
}

function validateValues(c: ResolvedConfig, problems: string[]): void {
  for (const [path, allowed] of Object.entries(ENUMS)) {
    const v = getPath(c as unknown as Json, path);
    if (!allowed.includes(v as string)) problems.push(`"${path}" must be one of ${allowed.join(', ')} (got ${JSON.stringify(v)})`);
  }
  for (const path of ['dicom.port', 'http.port']) {
    const v = getPath(c as unknown as Json, path);
    if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 65535) problems.push(`"${path}" must be an integer 0-65535 (0 picks a free port)`);
  }
  checkAet(c.dicom.aet, 'dicom.aet', problems);
  if (!Number.isInteger(c.dicom.maxPduLength) || c.dicom.maxPduLength < 4096) problems.push('"dicom.maxPduLength" must be an integer >= 4096');
  for (const key of ['artimTimeoutSeconds', 'idleTimeoutSeconds', 'maxAssociations'] as const) {
    if (!(c.dicom[key] > 0)) problems.push(`"dicom.${key}" must be a positive number`);
  }
  c.dicom.allowedCallingAets.forEach((a, i) => checkAet(a, `dicom.allowedCallingAets[${i}]`, problems));
  c.dicom.peers.forEach((p, i) => {
    const where = `dicom.peers[${i}]`;
    if (!isPlainObject(p)) return problems.push(`"${where}" must be an object {aet, host, port}`);
    checkAet(p.aet, `${where}.aet`, problems);
    if (typeof p.host !== 'string' || p.host === '') problems.push(`"${where}.host" must be a host name or address`);
    if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) problems.push(`"${where}.port" must be an integer 1-65535`);
    for (const k of Object.keys(p)) if (!['aet', 'host', 'port'].includes(k)) problems.push(`unknown key "${where}.${k}"`);
  });
  const seen = new Set([c.dicom.aet]);
  c.intakes.forEach((it, i) => {
    const where = `intakes[${i}]`;
    if (!isPlainObject(it)) return problems.push(`"${where}" must be an object {aet, project}`);
    checkAet(it.aet, `${where}.aet`, problems);
    if (seen.has(it.aet)) problems.push(`"${where}.aet" ${JSON.stringify(it.aet)} is already used by dicom.aet or another intake`);
    seen.add(it.aet);
    if (typeof it.project !== 'string' || it.project === '') problems.push(`"${where}.project" must name a project (basic, longitudinal, or one under "projects")`);
    if (it.allowedCallingAets !== undefined) {
      if (!Array.isArray(it.allowedCallingAets)) problems.push(`"${where}.allowedCallingAets" must be a list of AE titles`);
      else it.allowedCallingAets.forEach((a, j) => checkAet(a, `${where}.allowedCallingAets[${j}]`, problems));
    }
    for (const k of Object.keys(it)) if (!['aet', 'project', 'allowedCallingAets'].includes(k)) problems.push(`unknown key "${where}.${k}"`);
  });
  if ((c.http.tlsCertFile === null) !== (c.http.tlsKeyFile === null)) problems.push('"http.tlsCertFile" and "http.tlsKeyFile" go together: set both for HTTPS, or neither');
  if (!(c.http.uploadLimitMiB > 0)) problems.push('"http.uploadLimitMiB" must be a positive number');
  for (const key of ['sessionHours', 'loginMaxFailures', 'loginWindowSeconds'] as const) {
    if (!(c.auth[key] > 0)) problems.push(`"auth.${key}" must be a positive number`);
  }
  if (!/^[A-Za-z0-9._-]+$/.test(c.auth.archiveProject)) problems.push('"auth.archiveProject" must be a project name (letters, digits, . _ -)');
  if (c.auth.oidc.issuer !== null && (c.auth.oidc.clientId === '' || c.auth.oidc.redirectUri === '')) {
    problems.push('"auth.oidc.issuer" is set, so "auth.oidc.clientId" and "auth.oidc.redirectUri" are needed too');
  }
  if (!(c.stableAgeSeconds > 0)) problems.push('"stableAgeSeconds" must be a positive number');
  for (const key of ['concurrency', 'maxAttempts'] as const) {
    if (!Number.isInteger(c.jobs[key]) || c.jobs[key] < 1) problems.push(`"jobs.${key}" must be an integer >= 1`);
  }
  for (const key of ['leaseSeconds', 'backoffInitialSeconds', 'backoffMaxSeconds'] as const) {
    if (!(c.jobs[key] > 0)) problems.push(`"jobs.${key}" must be a positive number`);
  }
  if (c.jobs.backoffMaxSeconds < c.jobs.backoffInitialSeconds) problems.push('"jobs.backoffMaxSeconds" must be >= "jobs.backoffInitialSeconds"');
  if (c.index.kind === 'postgres' && c.postgres.url === null) problems.push('"index.kind" is postgres but "postgres.url" is not set (e.g. "env:DICOMGATE_PG_URL")');
}

const DESTINATION_KEYS: Record<string, readonly string[]> = {
  dicom: ['kind', 'aet', 'host', 'port'],
  dicomweb: ['kind', 'url', 'auth'],
  folder: ['kind', 'root', 'template', 'dicomdir'],
};

/** destinations: name -> {kind: dicom|dicomweb|folder, ...}; auth secrets are resolved here like every secret. */
function readDestinations(raw: unknown, problems: string[], env: NodeJS.ProcessEnv): Json {
  const out: Json = {};
  if (!isPlainObject(raw)) {
    problems.push('"destinations" must be an object keyed by destination name');
    return out;
  }
  for (const [name, d] of Object.entries(raw)) {
    const where = `destinations.${name}`;
    if (!isPlainObject(d) || typeof d.kind !== 'string' || !(d.kind in DESTINATION_KEYS)) {
      problems.push(`"${where}" must be an object with kind dicom, dicomweb or folder`);
      continue;
    }
    for (const k of Object.keys(d)) if (!DESTINATION_KEYS[d.kind]!.includes(k)) problems.push(`unknown key "${where}.${k}"`);
    if (d.kind === 'dicom') {
      checkAet(d.aet, `${where}.aet`, problems);
      if (typeof d.host !== 'string' || d.host === '') problems.push(`"${where}.host" must be a host name or address`);
      if (!Number.isInteger(d.port) || (d.port as number) < 1 || (d.port as number) > 65535) problems.push(`"${where}.port" must be an integer 1-65535`);
      out[name] = { ...d };
    } else if (d.kind === 'dicomweb') {
      if (typeof d.url !== 'string' || !/^https?:\/\//.test(d.url)) problems.push(`"${where}.url" must be an http(s) URL`);
      const dest: Json = { kind: 'dicomweb', url: d.url };
      if (d.auth !== undefined) {
        const a = d.auth;
        if (!isPlainObject(a) || (a.kind !== 'basic' && a.kind !== 'bearer')) problems.push(`"${where}.auth" must be {kind: basic|bearer, username?, secret}`);
        else {
          for (const k of Object.keys(a)) if (!['kind', 'username', 'secret'].includes(k)) problems.push(`unknown key "${where}.auth.${k}"`);
          if (a.kind === 'basic' && (typeof a.username !== 'string' || a.username === '')) problems.push(`"${where}.auth.username" is needed for basic auth`);
          if (!isSecretRef(a.secret)) problems.push(`"${where}.auth.secret" must be a secret reference "env:NAME" or "file:/path", never the secret itself`);
          else {
            try {
              dest.auth = { kind: a.kind, ...(a.kind === 'basic' ? { username: a.username } : {}), secret: resolveSecret(a.secret, env) };
            } catch (e) {
              problems.push(`"${where}.auth.secret": ${(e as Error).message}`);
            }
          }
        }
      }
      out[name] = dest;
    } else {
      if (typeof d.root !== 'string' || d.root === '') problems.push(`"${where}.root" must be a folder path`);
      if (d.template !== undefined && (typeof d.template !== 'string' || d.template === '')) problems.push(`"${where}.template" must be a path template`);
      if (d.dicomdir !== undefined && typeof d.dicomdir !== 'boolean') problems.push(`"${where}.dicomdir" must be true or false`);
      out[name] = { kind: 'folder', root: typeof d.root === 'string' ? resolve(d.root) : d.root, template: d.template ?? DEFAULT_EXPORT_TEMPLATE, ...(d.dicomdir === true ? { dicomdir: true } : {}) };
    }
  }
  return out;
}

const WATCH_FOLDER_KEYS = ['path', 'project', 'pollSeconds', 'settleSeconds', 'after'];

/**
 * watchFolders: [{path, project?, pollSeconds = 5, settleSeconds = 10, after = move}], paths resolved.
 * The project name is checked at start-up with the other intake projects (main.ts).
 */
function readWatchFolders(raw: unknown, problems: string[]): Json[] {
  if (!Array.isArray(raw)) {
    problems.push('"watchFolders" must be a list of {path, project?, pollSeconds?, settleSeconds?, after?}');
    return [];
  }
  const out: Json[] = [];
  raw.forEach((w: unknown, i) => {
    const where = `watchFolders[${i}]`;
    if (!isPlainObject(w)) return problems.push(`"${where}" must be an object {path, project?, pollSeconds?, settleSeconds?, after?}`);
    for (const k of Object.keys(w)) if (!WATCH_FOLDER_KEYS.includes(k)) problems.push(`unknown key "${where}.${k}"`);
    if (typeof w.path !== 'string' || w.path === '') return problems.push(`"${where}.path" must be a folder path`);
    const path = resolve(w.path);
    const unusable = folderProblem(path);
    if (unusable) problems.push(`"${where}.path" ${unusable}`);
    const clash = out.find((o) => isSameOrInside(path, o.path as string) || isSameOrInside(o.path as string, path));
    if (clash) problems.push(`"${where}.path" overlaps another watch folder (${clash.path as string}): each file must belong to one`);
    if (w.project !== undefined && (typeof w.project !== 'string' || w.project === '')) problems.push(`"${where}.project" must name a project (basic, longitudinal, or one under "projects")`);
    for (const k of ['pollSeconds', 'settleSeconds'] as const) {
      if (w[k] !== undefined && !(typeof w[k] === 'number' && Number.isFinite(w[k]) && w[k] > 0)) problems.push(`"${where}.${k}" must be a positive number of seconds`);
    }
    if (w.after !== undefined && w.after !== 'move' && w.after !== 'delete') problems.push(`"${where}.after" must be move or delete`);
    out.push({
      path,
      ...(typeof w.project === 'string' ? { project: w.project } : {}),
      pollSeconds: w.pollSeconds ?? 5,
      settleSeconds: w.settleSeconds ?? 10,
      after: w.after ?? 'move',
    });
  });
  return out;
}

/** Why a watch folder cannot be used: not a folder, or missing with no writable folder above it to create it in. */
function folderProblem(path: string): string | undefined {
  const st = statSync(path, { throwIfNoEntry: false });
  if (st) return st.isDirectory() ? undefined : 'is not a folder';
  let up = dirname(path);
  while (up !== dirname(up) && !statSync(up, { throwIfNoEntry: false })) up = dirname(up);
  try {
    if (!statSync(up).isDirectory()) return `cannot be created (${up} is not a folder)`;
    accessSync(up, fsConstants.W_OK);
    return undefined;
  } catch {
    return `does not exist and cannot be created under ${up}`;
  }
}

function isSameOrInside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** The disk export template when a folder destination names none (src/export/disk-exporter.ts DEFAULT_TEMPLATE). */
export const DEFAULT_EXPORT_TEMPLATE = '{PatientID}/{StudyDate}_{StudyDescription}/{SeriesNumber:03}_{Modality}/{InstanceNumber:04}.dcm';

function checkAet(v: unknown, path: string, problems: string[]): void {
  // PS3.5 AE VR: 1-16 characters of the default repertoire, no backslash or control characters.
  if (typeof v !== 'string' || !/^[\x20-\x5b\x5d-\x7e]{1,16}$/.test(v) || v.trim() === '') {
    problems.push(`"${path}" must be an AE title of 1-16 printable characters without "\\" (got ${JSON.stringify(v)})`);
  }
}

function isPlainObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}

function getPath(obj: Json, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o as Json | undefined)?.[k], obj);
}

function setPath(obj: Json, path: string, value: unknown): void {
  const keys = path.split('.');
  let o = obj;
  for (const k of keys.slice(0, -1)) o = o[k] as Json;
  o[keys[keys.length - 1]] = value;
}

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null && !Object.isFrozen(o) && (isPlainObject(o) || Array.isArray(o))) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
