// Shared by the DICOM SCU commands (send, query, retrieve, echo): which peer `<peer>` names, the
// association options every command takes, and errors rewritten so that they say what to fix.
import { isAppError } from '../../core/errors.ts';
import type { ResolvedConfig } from '../../config/schema.ts';
import type { AssociateOptions, UserIdentity } from '../../dimse/index.ts';
import { UsageError, intFlag } from '../command.ts';

export interface PeerAddress {
  readonly aet: string;
  readonly host: string;
  readonly port: number;
}

/** Options of every SCU command (merged into the command's own). */
export const SCU_OPTIONS = {
  aet: { type: 'string' },
  timeout: { type: 'string' },
  user: { type: 'string' },
  token: { type: 'boolean' },
} as const;

export const SCU_USAGE = `Peer and association options:
  <peer>            an AE title from the config's dicom.peers, or AET@host:port
  --aet <AE>        our (calling) AE title (default: the config's dicom.aet)
  --timeout <s>     seconds to wait for the association and each answer (default 30)
  --user <name>     send user identity (PS3.7 D.3.3.7) with the password read from the
                    environment variable DICOMGATE_DIMSE_PASSWORD (never from the command line)
  --token           send the API token in DICOMGATE_DIMSE_TOKEN as user identity (type 5)
                    (a dicomgate server with authentication on needs --user or --token)`;

const AE_TITLE = /^[\x20-\x5b\x5d-\x7e]{1,16}$/;

/** Resolves `<peer>`: an ad-hoc AET@host:port, or an AE title of `dicom.peers` (exact, then ignoring case). */
export function resolvePeer(spec: string | undefined, config: ResolvedConfig): PeerAddress {
  const known = config.dicom.peers;
  const list = known.length > 0 ? `known peers: ${known.map((p) => `${p.aet} (${p.host}:${p.port})`).join(', ')}` : 'no peers are configured (dicom.peers)';
  if (spec === undefined || spec === '') throw new UsageError(`give the peer: an AE title of dicom.peers or AET@host:port; ${list}`);
  const m = /^([^@]+)@(\[[^\]]+\]|[^:@]+):(\d+)$/.exec(spec);
  if (m) {
    const aet = m[1];
    if (!AE_TITLE.test(aet)) throw new UsageError(`"${aet}" is not a valid AE title (1 to 16 characters, no backslash)`);
    const port = Number(m[3]);
    if (port < 1 || port > 65535) throw new UsageError(`port ${m[3]} is out of range (1..65535)`);
    return { aet, host: m[2].replace(/^\[|\]$/g, ''), port };
  }
  if (spec.includes('@') || spec.includes(':')) throw new UsageError(`cannot read peer "${spec}": write it as AET@host:port, e.g. PACS@10.0.0.5:104`);
  const hit = known.find((p) => p.aet === spec) ?? known.find((p) => p.aet.toLowerCase() === spec.toLowerCase());
  if (!hit) throw new UsageError(`unknown peer "${spec}"; ${list}; or give it as AET@host:port`);
  return { aet: hit.aet, host: hit.host, port: hit.port };
}

/** The association options shared by every SCU command, from its flags, the config and the environment. */
export function associationBase(values: Record<string, unknown>, config: ResolvedConfig, peer: PeerAddress, env: NodeJS.ProcessEnv = process.env): Omit<AssociateOptions, 'contexts'> {
  const callingAe = (values.aet as string | undefined) ?? config.dicom.aet;
  if (!AE_TITLE.test(callingAe)) throw new UsageError(`--aet "${callingAe}" is not a valid AE title (1 to 16 characters, no backslash)`);
  const seconds = intFlag(values.timeout, 'timeout') ?? 30;
  if (seconds < 1) throw new UsageError('--timeout must be at least 1 second');
  const user = values.user as string | undefined;
  if (user !== undefined && values.token) throw new UsageError('give --user or --token, not both');
  let userIdentity: UserIdentity | undefined;
  if (values.token) {
    const token = env.DICOMGATE_DIMSE_TOKEN;
    if (!token) throw new UsageError('--token sends the API token in the environment variable DICOMGATE_DIMSE_TOKEN, which is not set');
    userIdentity = { type: 5, primary: token, positiveResponseRequested: false };
  } else if (user !== undefined) {
    const password = env.DICOMGATE_DIMSE_PASSWORD;
    // Type 1 (name alone) for peers that only want a name; dicomgate itself needs type 2.
    userIdentity = password ? { type: 2, primary: user, secondary: password, positiveResponseRequested: false } : { type: 1, primary: user, positiveResponseRequested: false };
  }
  return {
    host: peer.host,
    port: peer.port,
    callingAe,
    calledAe: peer.aet,
    timeouts: { artimMs: seconds * 1000, idleMs: seconds * 1000 },
    ...(userIdentity && { userIdentity }),
  };
}

export function describePeer(p: PeerAddress): string {
  return `${p.aet}@${p.host}:${p.port}`;
}

/**
 * A one-line explanation of an association failure with the likely fix. Error details carry
 * protocol numbers and socket error codes only, never patient data.
 */
export function explainAssociationError(e: unknown, peer: PeerAddress, callingAe: string): string {
  const where = describePeer(peer);
  const text = e instanceof Error ? e.message : String(e);
  const code = isAppError(e) ? e.code : undefined;
  if (/ECONNREFUSED/.test(text)) return `cannot connect to ${where}: connection refused. Check the host and port (is the peer running and listening on ${peer.port}?)`;
  if (/ENOTFOUND|EAI_AGAIN/.test(text)) return `cannot connect to ${where}: host "${peer.host}" not found. Check the host name`;
  if (/EHOSTUNREACH|ENETUNREACH|ETIMEDOUT/.test(text)) return `cannot connect to ${where}: host unreachable. Check the host, the network and firewalls`;
  if (code === 'DIMSE_ASSOCIATION_REJECTED') {
    // PS3.8 7.1.1.9 (source 1 = service user): 3 calling AE not recognized, 7 called AE not recognized.
    if (/source 1 reason 3\b|source 1, reason 3\b/.test(text)) return `${where} rejected the association: calling AE title "${callingAe}" not recognized. Register it at the peer or pass --aet`;
    if (/source 1 reason 7\b|source 1, reason 7\b/.test(text)) return `${where} rejected the association: called AE title "${peer.aet}" not recognized. Check the peer's AE title`;
    return `${where} rejected the association (${text}). Check the AE titles, whether the peer accepts calling AE "${callingAe}", and its user identity (--user with DICOMGATE_DIMSE_PASSWORD, or --token)`;
  }
  if (code === 'DIMSE_TIMEOUT') return `${where} did not answer in time. Check the port is a DICOM port, or raise --timeout`;
  if (code === 'DIMSE_NO_CONTEXT') return `${where} accepted none of the presentation contexts needed (${text})`;
  return `association with ${where} failed: ${text}`;
}
