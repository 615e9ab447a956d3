// Receiving side of C-STORE (PS3.4 Annex B, PS3.7 9.1.1), shared by the SCP and by an SCU doing
// C-GET: streams the dataset fragments into the handler's sink as they arrive and answers with
// C-STORE-RSP only once sink.finish() has resolved. A failing sink turns into a failure status;
// the remaining fragments are drained and the association stays up.
import { isAppError } from '../core/errors.ts';
import { COMMAND_FIELD, NO_DATASET } from './command-set.ts';
import type { DatasetReceiver, DimseChannel, IncomingMessage } from './dimse-channel.ts';
import type { CStoreRequest, StatusResult, StoreSink } from './handlers.ts';
import { STATUS } from './status.ts';

export type SinkFactory = (rq: CStoreRequest) => Promise<StoreSink> | StoreSink;

/** The DIMSE status for an error thrown by a handler: the catalog's, or Processing Failure. */
export function statusForError(e: unknown): { status: number; errorComment: string } {
  if (isAppError(e)) return { status: e.spec.dimse, errorComment: e.code };
  return { status: STATUS.StoreCannotUnderstand, errorComment: 'internal error' };
}

function normalize(r: StatusResult): { status: number; errorComment?: string } {
  return typeof r === 'number' ? { status: r } : r;
}

export function cStoreReceiver(channel: DimseChannel, msg: IncomingMessage, base: Omit<CStoreRequest, 'affectedSopClassUid' | 'affectedSopInstanceUid' | 'transferSyntaxUid' | 'priority' | 'moveOriginator'>, makeSink: SinkFactory | undefined): DatasetReceiver {
  const c = msg.command;
  const rq: CStoreRequest = {
    ...base,
    affectedSopClassUid: c.affectedSopClassUid ?? '',
    affectedSopInstanceUid: c.affectedSopInstanceUid ?? '',
    transferSyntaxUid: msg.context.transferSyntax,
    priority: c.priority ?? 0,
    ...(c.moveOriginatorApplicationEntityTitle !== undefined && {
      moveOriginator: { aeTitle: c.moveOriginatorApplicationEntityTitle, messageId: c.moveOriginatorMessageId ?? 0 },
    }),
  };
  let failure: { status: number; errorComment?: string } | undefined;
  let sink: StoreSink | undefined;
  // PS3.4 B.2.3: the command's SOP class must match the context's abstract syntax.
  if (!makeSink) failure = { status: STATUS.SopClassNotSupported };
  else if (rq.affectedSopClassUid !== msg.context.abstractSyntax) failure = { status: STATUS.StoreDataSetDoesNotMatchSopClass, errorComment: 'SOP class differs from context' };
  const ready: Promise<void> = failure
    ? Promise.resolve()
    : Promise.resolve()
        .then(() => makeSink!(rq))
        .then(
          (s) => {
            sink = s;
          },
          (e) => {
            failure = statusForError(e);
          },
        );
  const fail = (e: unknown): void => {
    failure = statusForError(e);
    try {
      sink?.abort();
    } catch {
      // the failure status is already set; a broken abort changes nothing for the peer
    }
    sink = undefined;
  };
  const respond = (r: { status: number; errorComment?: string }): Promise<void> =>
    channel.send(
      msg.context.id,
      {
        commandField: COMMAND_FIELD.CStoreRsp,
        messageIdBeingRespondedTo: c.messageId ?? 0,
        affectedSopClassUid: rq.affectedSopClassUid,
        affectedSopInstanceUid: rq.affectedSopInstanceUid,
        commandDataSetType: NO_DATASET,
        status: r.status,
        ...(r.errorComment !== undefined && { errorComment: r.errorComment.slice(0, 64) }),
      },
      undefined,
    );
  return {
    async write(chunk) {
      await ready;
      if (!sink) return;
      try {
        await sink.write(chunk);
      } catch (e) {
        fail(e);
      }
    },
    async end() {
      await ready;
      let result = failure;
      if (sink) {
        try {
          result = normalize(await sink.finish());
        } catch (e) {
          fail(e);
          result = failure;
        }
      }
      await respond(result ?? { status: STATUS.StoreCannotUnderstand });
    },
    abort() {
      void ready.then(() => sink?.abort()).catch(() => undefined);
    },
  };
}
