// `dicomgate users ...`: manage HTTP users and API tokens in <dataDir>/index.sqlite.
// Passwords come from --password-file or standard input (prompted without echo on a terminal),
// never from a flag, so they stay out of shell history and `ps`.
import { mkdirSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../../auth/audit-log.ts';
import { AuthService } from '../../auth/auth-service.ts';
import type { AuditStore } from '../../auth/audit-event.ts';
import { openSqliteAuth } from '../../auth/open-sqlite-auth.ts';
import { PgAuth } from '../../auth/postgres/pg-auth.ts';
import type { UserStore } from '../../auth/user-store.ts';
import { parseRoles } from '../../auth/roles.ts';
import { createLogger } from '../../core/log.ts';
import { UsageError, type Command, type CommandContext } from '../command.ts';

const SUBCOMMANDS = ['add', 'list', 'update', 'remove', 'passwd', 'token-create', 'token-revoke'] as const;
type Sub = (typeof SUBCOMMANDS)[number];

export const command: Command = {
  name: 'users',
  summary: 'manage HTTP users, roles, projects and API tokens',
  usage: `<add|list|update|remove|passwd|token-create|token-revoke> [arguments] [options]

  users add <name> --role <role> [--role <role>] [--project <name>] [--password-file <file>]
  users list
  users update <name> [--role <role>...] [--project <name>... | --no-projects] [--disable | --enable]
  users remove <name>
  users passwd <name> [--password-file <file>]
  users token-create <name> [--label <text>] [--expires-days <n> | --no-expiry]
  users token-revoke <token-id>

Roles: admin (users, configuration, deletion), broker (key lookups, re-identification, quarantine),
researcher (read and download de-identified data), uploader (send data). --project may repeat;
"*" grants every project. Passwords have at least 12 characters. Without --password-file the
password is read from standard input (asked twice, without echo, on a terminal; first line when
piped). It is never a flag: flags end up in shell history and process listings.
token-create prints the token once; only its hash is kept. Default expiry: 90 days.

Examples:
  dicomgate users add alice --role researcher --project lung
  dicomgate users add ci --role uploader --password-file /run/secrets/ci
  dicomgate users token-create alice --label pydicer --expires-days 30`,
  options: {
    role: { type: 'string', multiple: true },
    project: { type: 'string', multiple: true },
    'password-file': { type: 'string' },
    label: { type: 'string' },
    'expires-days': { type: 'string' },
    'no-expiry': { type: 'boolean' },
    'no-projects': { type: 'boolean' },
    disable: { type: 'boolean' },
    enable: { type: 'boolean' },
  },
  allowPositionals: true,
  async run(args, ctx) {
    const [sub, ...rest] = args.positionals;
    if (sub === undefined || !(SUBCOMMANDS as readonly string[]).includes(sub)) {
      throw new UsageError(`expected one of ${SUBCOMMANDS.join(', ')}`);
    }
    mkdirSync(ctx.config.dataDir, { recursive: true });
    const db = await openStores(ctx);
    try {
      const audit = new AuditLog({ store: db.audit, file: join(ctx.config.dataDir, 'audit.log'), logger: createLogger({ level: 'error', stream: ctx.stderr }) });
      return await runSub(sub as Sub, rest, args.values, ctx, db.users, audit);
    } finally {
      await db.close();
    }
  },
};

/** The user and audit tables where `serve` keeps them: the SQLite index file, or PostgreSQL. */
async function openStores(ctx: CommandContext): Promise<{ users: UserStore; audit: AuditStore; close(): Promise<void> }> {
  if (ctx.config.index.kind === 'postgres') {
    const url = ctx.config.postgres.url;
    if (url === null) throw new UsageError('index.kind is "postgres" but postgres.url is not set');
    const pgAuth = await PgAuth.open(url.reveal(), ctx.config.postgres.schema);
    return { users: pgAuth, audit: pgAuth, close: () => pgAuth.close() };
  }
  const db = openSqliteAuth(join(ctx.config.dataDir, 'index.sqlite'));
  return { users: db.users, audit: db.audit, close: async () => db.close() };
}

function one(rest: string[], what: string): string {
  if (rest.length !== 1) throw new UsageError(`expected exactly one ${what}`);
  return rest[0];
}

async function runSub(sub: Sub, rest: string[], v: Record<string, unknown>, ctx: CommandContext, users: UserStore, audit: AuditLog): Promise<number> {
  const auth = new AuthService({ store: users });
  const actor = `cli:${userInfo().username}`;
  const record = (action: string, resource: string) => audit.record({ actor, action, resource, ip: 'cli', outcome: 'success' });
  switch (sub) {
    case 'add': {
      const name = one(rest, 'user name');
      const roles = parseRoles((v.role as string[] | undefined) ?? []);
      if (roles.length === 0) throw new UsageError('give at least one --role (admin, broker, researcher, uploader)');
      const projects = (v.project as string[] | undefined) ?? [];
      warnUnknownProjects(projects, ctx);
      const password = await readPassword(v['password-file'] as string | undefined, ctx);
      const u = await auth.addUser(name, password, roles, projects);
      await record('user.add', u.username);
      ctx.stdout.write(`added ${u.username} (${u.roles.join(', ')})\n`);
      return 0;
    }
    case 'list': {
      if (rest.length > 0) throw new UsageError('list takes no arguments');
      const users = await auth.listUsers();
      const tokens = await auth.listTokens();
      for (const u of users) {
        const state = u.disabled ? ' [disabled]' : '';
        ctx.stdout.write(`${u.username}\troles=${u.roles.join(',')}\tprojects=${u.projects.join(',') || '-'}${state}\n`);
        for (const t of tokens.filter((x) => x.userId === u.id)) {
          const status = t.revokedAt !== null ? 'revoked' : t.expiresAt !== null && Date.parse(t.expiresAt) <= Date.now() ? 'expired' : 'active';
          ctx.stdout.write(`  token ${t.id}\t${t.name}\t${status}\texpires=${t.expiresAt ?? 'never'}\tlast-used=${t.lastUsedAt ?? 'never'}\n`);
        }
      }
      if (users.length === 0) ctx.stdout.write('no users\n');
      return 0;
    }
    case 'update': {
      const name = one(rest, 'user name');
      if (v.disable === true && v.enable === true) throw new UsageError('give --disable or --enable, not both');
      if (v['no-projects'] === true && v.project !== undefined) throw new UsageError('give --project or --no-projects, not both');
      const access: { roles?: ReturnType<typeof parseRoles>; projects?: string[]; disabled?: boolean } = {};
      if (v.role !== undefined) access.roles = parseRoles(v.role as string[]);
      if (v.project !== undefined) {
        access.projects = v.project as string[];
        warnUnknownProjects(access.projects, ctx);
      }
      if (v['no-projects'] === true) access.projects = [];
      if (v.disable === true) access.disabled = true;
      if (v.enable === true) access.disabled = false;
      if (Object.keys(access).length === 0) throw new UsageError('nothing to change: give --role, --project, --no-projects, --disable or --enable');
      await auth.updateAccess(name, access);
      await record('user.update', name);
      ctx.stdout.write(`updated ${name}\n`);
      return 0;
    }
    case 'remove': {
      const name = one(rest, 'user name');
      await auth.removeUser(name);
      await record('user.remove', name);
      ctx.stdout.write(`removed ${name}\n`);
      return 0;
    }
    case 'passwd': {
      const name = one(rest, 'user name');
      if (!(await users.getUser(name))) throw new UsageError(`no user "${name}"`);
      await auth.setPassword(name, await readPassword(v['password-file'] as string | undefined, ctx));
      await record('user.passwd', name);
      ctx.stdout.write(`password changed for ${name}; its browser sessions are closed\n`);
      return 0;
    }
    case 'token-create': {
      const name = one(rest, 'user name');
      if (v['no-expiry'] === true && v['expires-days'] !== undefined) throw new UsageError('give --expires-days or --no-expiry, not both');
      const days = v['no-expiry'] === true ? null : Number(v['expires-days'] ?? 90);
      if (days !== null && !Number.isInteger(days)) throw new UsageError('--expires-days must be a whole number of days');
      const { token, info } = await auth.createToken(name, (v.label as string | undefined) ?? 'api', days);
      await record('token.create', info.id);
      ctx.stderr.write(`token ${info.id} for ${name}, expires ${info.expiresAt ?? 'never'}; shown once, store it now:\n`);
      ctx.stdout.write(`${token}\n`);
      return 0;
    }
    case 'token-revoke': {
      const id = one(rest, 'token id');
      await auth.revokeToken(id);
      await record('token.revoke', id);
      ctx.stdout.write(`revoked token ${id}\n`);
      return 0;
    }
  }
}

function warnUnknownProjects(projects: string[], ctx: CommandContext): void {
  const known = Object.keys(ctx.config.projects);
  const unknown = projects.filter((p) => p !== '*' && !known.includes(p));
  if (unknown.length > 0) ctx.stderr.write(`warning: project(s) ${unknown.join(', ')} not in the configuration (yet)\n`);
}

async function readPassword(file: string | undefined, ctx: CommandContext): Promise<string> {
  if (file !== undefined) {
    try {
      return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch {
      throw new UsageError(`cannot read --password-file ${file}`);
    }
  }
  const stdin = process.stdin;
  if (stdin.isTTY) {
    const first = await promptHidden('password: ', ctx);
    const second = await promptHidden('again: ', ctx);
    if (first !== second) throw new UsageError('the two passwords differ');
    return first;
  }
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(c as Buffer);
  const line = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
  if (line === '') throw new UsageError('no password on standard input (or give --password-file)');
  return line;
}

/** Reads one line from the terminal with echo off (raw mode), handling backspace and Ctrl-C. */
function promptHidden(prompt: string, ctx: CommandContext): Promise<string> {
  const stdin = process.stdin;
  ctx.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let value = '';
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      ctx.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new UsageError('cancelled'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}
