// C-STORE into a called AE title bound to a de-identification project. De-identification needs
// the whole object, so the dataset is collected in memory here (bounded by maxObjectBytes); the
// response waits until the de-identified copy is durably archived, or the original durably
// quarantined. Other called AE titles fall through to the plain archive intake.
import { ERRORS } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { CStoreRequest, StoreSink } from '../dimse/handlers.ts';
import { STATUS } from '../dimse/status.ts';
import type { GatewayProject, GatewayService } from '../services/gateway.ts';
import { statusForCode, type StoreIntake } from './c-store-intake.ts';
import { part10Header } from './part10-header.ts';

export interface GatewayIntakeDeps {
  gateway: GatewayService;
  /** The project bound to a called AE title, or undefined for a plain archive AE. */
  projectFor(calledAe: string): GatewayProject | undefined;
  fallback: StoreIntake;
  log: Logger;
  /** Largest object accepted on a de-identifying AE (default 2 GiB). */
  maxObjectBytes?: number;
}

export function gatewayIntake(deps: GatewayIntakeDeps): StoreIntake {
  const max = deps.maxObjectBytes ?? 2 * 1024 ** 3;
  return (rq: CStoreRequest) => {
    const target = deps.projectFor(rq.association.calledAe);
    if (!target) return deps.fallback(rq);
    const chunks: Buffer[] = [
      part10Header({ sopClassUid: rq.affectedSopClassUid, sopInstanceUid: rq.affectedSopInstanceUid, transferSyntaxUid: rq.transferSyntaxUid, sourceAe: rq.association.callingAe }),
    ];
    let size = 0;
    let tooLarge = false;
    const sink: StoreSink = {
      write(chunk) {
        size += chunk.length;
        if (size > max) tooLarge = true;
        else chunks.push(Buffer.from(chunk));
      },
      async finish() {
        if (tooLarge) {
          deps.log.warn('C-STORE to gateway refused: object too large', { calledAe: rq.association.calledAe, bytes: size, max });
          return { status: STATUS.StoreOutOfResources, errorComment: 'object too large for de-identification' };
        }
        try {
          const r = await deps.gateway.process(Buffer.concat(chunks), target, {
            transport: 'dimse',
            remoteAe: rq.association.callingAe,
            calledAe: rq.association.calledAe,
            remoteHost: rq.association.remoteAddress,
          });
          if (r.status === 'rejected') return { status: statusForCode(r.code), errorComment: r.code };
          return STATUS.Success;
        } catch (e) {
          const code = (e as { code?: keyof typeof ERRORS }).code;
          deps.log.error('gateway C-STORE failed', { calledAe: rq.association.calledAe, err: e });
          return { status: code && code in ERRORS ? statusForCode(code) : STATUS.StoreOutOfResources, errorComment: code ?? 'internal error' };
        }
      },
      abort() {
        chunks.length = 0;
      },
    };
    return sink;
  };
}
