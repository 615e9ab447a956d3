// Config files hold secret references, never secrets: "env:NAME" or "file:/path".
import { readFileSync } from 'node:fs';
import { AppError } from '../core/errors.ts';
import { Secret } from '../core/secret.ts';

export function isSecretRef(v: unknown): v is string {
  return typeof v === 'string' && (v.startsWith('env:') || v.startsWith('file:'));
}

export function resolveSecret(ref: string, env: NodeJS.ProcessEnv): Secret {
  if (ref.startsWith('env:')) {
    const name = ref.slice(4);
    const value = env[name];
    if (value === undefined) throw new AppError('CONFIG_SECRET', { detail: `environment variable ${name} is not set (fix: export ${name}=...)` });
    return new Secret(value, ref);
  }
  if (ref.startsWith('file:')) {
    const path = ref.slice(5);
    try {
      // Secret files conventionally end with a newline that is not part of the secret.
      return new Secret(readFileSync(path, 'utf8').replace(/\r?\n$/, ''), ref);
    } catch (cause) {
      throw new AppError('CONFIG_SECRET', { detail: `cannot read secret file ${path}`, cause });
    }
  }
  throw new AppError('CONFIG_SECRET', { detail: 'a secret must be given as "env:NAME" or "file:/path", not inline' });
}
