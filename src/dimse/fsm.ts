// The DICOM Upper Layer state machine of PS3.8 section 9.2, as data: the states (Table 9-1),
// events (Table 9-2), actions (Tables 9-6 to 9-9) and the state transition table (Table 9-10).
// association.ts looks a cell up and performs the named action; this file does no I/O.

export type State =
  | 'Sta1' | 'Sta2' | 'Sta3' | 'Sta4' | 'Sta5' | 'Sta6' | 'Sta7'
  | 'Sta8' | 'Sta9' | 'Sta10' | 'Sta11' | 'Sta12' | 'Sta13';

export type Event =
  | 'Evt1' | 'Evt2' | 'Evt3' | 'Evt4' | 'Evt5' | 'Evt6' | 'Evt7' | 'Evt8' | 'Evt9' | 'Evt10'
  | 'Evt11' | 'Evt12' | 'Evt13' | 'Evt14' | 'Evt15' | 'Evt16' | 'Evt17' | 'Evt18' | 'Evt19';

export type Action =
  | 'AE-1' | 'AE-2' | 'AE-3' | 'AE-4' | 'AE-5' | 'AE-6' | 'AE-7' | 'AE-8'
  | 'DT-1' | 'DT-2'
  | 'AR-1' | 'AR-2' | 'AR-3' | 'AR-4' | 'AR-5' | 'AR-6' | 'AR-7' | 'AR-8' | 'AR-9' | 'AR-10'
  | 'AA-1' | 'AA-2' | 'AA-3' | 'AA-4' | 'AA-5' | 'AA-6' | 'AA-7' | 'AA-8';

export const STATES: Readonly<Record<State, string>> = {
  Sta1: 'Idle',
  Sta2: 'Transport connection open (awaiting A-ASSOCIATE-RQ PDU)',
  Sta3: 'Awaiting local A-ASSOCIATE response primitive',
  Sta4: 'Awaiting transport connection opening to complete',
  Sta5: 'Awaiting A-ASSOCIATE-AC or A-ASSOCIATE-RJ PDU',
  Sta6: 'Association established and ready for data transfer',
  Sta7: 'Awaiting A-RELEASE-RP PDU',
  Sta8: 'Awaiting local A-RELEASE response primitive',
  Sta9: 'Release collision requestor side; awaiting A-RELEASE response primitive',
  Sta10: 'Release collision acceptor side; awaiting A-RELEASE-RP PDU',
  Sta11: 'Release collision requestor side; awaiting A-RELEASE-RP PDU',
  Sta12: 'Release collision acceptor side; awaiting A-RELEASE response primitive',
  Sta13: 'Awaiting transport connection close indication',
};

export const EVENTS: Readonly<Record<Event, string>> = {
  Evt1: 'A-ASSOCIATE request (local user)',
  Evt2: 'Transport connect confirmation (local transport service)',
  Evt3: 'A-ASSOCIATE-AC PDU received',
  Evt4: 'A-ASSOCIATE-RJ PDU received',
  Evt5: 'Transport connection indication (local transport service)',
  Evt6: 'A-ASSOCIATE-RQ PDU received',
  Evt7: 'A-ASSOCIATE response primitive (accept)',
  Evt8: 'A-ASSOCIATE response primitive (reject)',
  Evt9: 'P-DATA request primitive',
  Evt10: 'P-DATA-TF PDU received',
  Evt11: 'A-RELEASE request primitive',
  Evt12: 'A-RELEASE-RQ PDU received',
  Evt13: 'A-RELEASE-RP PDU received',
  Evt14: 'A-RELEASE response primitive',
  Evt15: 'A-ABORT request primitive',
  Evt16: 'A-ABORT PDU received',
  Evt17: 'Transport connection closed indication',
  Evt18: 'ARTIM timer expired',
  Evt19: 'Unrecognized or invalid PDU received',
};

/**
 * Next state of an action. Two actions branch (PS3.8 Table 9-7 and 9-8):
 * AE-6 on whether the service provider finds the A-ASSOCIATE-RQ acceptable, and
 * AR-8 on whether this side requested the association.
 */
export type NextState = State | { readonly acceptable: State; readonly unacceptable: State } | { readonly requestor: State; readonly acceptor: State };

export interface ActionSpec {
  readonly text: string;
  readonly next: NextState;
}

export const ACTIONS: Readonly<Record<Action, ActionSpec>> = {
  'AE-1': { text: 'Issue TRANSPORT CONNECT request primitive to local transport service', next: 'Sta4' },
  'AE-2': { text: 'Send A-ASSOCIATE-RQ PDU', next: 'Sta5' },
  'AE-3': { text: 'Issue A-ASSOCIATE confirmation (accept) primitive', next: 'Sta6' },
  'AE-4': { text: 'Issue A-ASSOCIATE confirmation (reject) primitive and close transport connection', next: 'Sta1' },
  'AE-5': { text: 'Issue transport connection response primitive; start ARTIM timer', next: 'Sta2' },
  'AE-6': {
    text: 'Stop ARTIM timer; if A-ASSOCIATE-RQ acceptable issue A-ASSOCIATE indication, else send A-ASSOCIATE-RJ PDU and start ARTIM timer',
    next: { acceptable: 'Sta3', unacceptable: 'Sta13' },
  },
  'AE-7': { text: 'Send A-ASSOCIATE-AC PDU', next: 'Sta6' },
  'AE-8': { text: 'Send A-ASSOCIATE-RJ PDU and start ARTIM timer', next: 'Sta13' },
  'DT-1': { text: 'Send P-DATA-TF PDU', next: 'Sta6' },
  'DT-2': { text: 'Send P-DATA indication primitive', next: 'Sta6' },
  'AR-1': { text: 'Send A-RELEASE-RQ PDU', next: 'Sta7' },
  'AR-2': { text: 'Issue A-RELEASE indication primitive', next: 'Sta8' },
  'AR-3': { text: 'Issue A-RELEASE confirmation primitive and close transport connection', next: 'Sta1' },
  'AR-4': { text: 'Send A-RELEASE-RP PDU and start ARTIM timer', next: 'Sta13' },
  'AR-5': { text: 'Stop ARTIM timer', next: 'Sta1' },
  'AR-6': { text: 'Issue P-DATA indication', next: 'Sta7' },
  'AR-7': { text: 'Send P-DATA-TF PDU', next: 'Sta8' },
  'AR-8': { text: 'Issue A-RELEASE indication (release collision)', next: { requestor: 'Sta9', acceptor: 'Sta10' } },
  'AR-9': { text: 'Send A-RELEASE-RP PDU', next: 'Sta11' },
  'AR-10': { text: 'Issue A-RELEASE confirmation primitive', next: 'Sta12' },
  'AA-1': { text: 'Send A-ABORT PDU (service-user source) and (re)start ARTIM timer', next: 'Sta13' },
  'AA-2': { text: 'Stop ARTIM timer if running; close transport connection', next: 'Sta1' },
  'AA-3': { text: 'Issue A-ABORT (or A-P-ABORT) indication and close transport connection', next: 'Sta1' },
  'AA-4': { text: 'Issue A-P-ABORT indication primitive', next: 'Sta1' },
  'AA-5': { text: 'Stop ARTIM timer', next: 'Sta1' },
  'AA-6': { text: 'Ignore PDU', next: 'Sta13' },
  'AA-7': { text: 'Send A-ABORT PDU', next: 'Sta13' },
  'AA-8': { text: 'Send A-ABORT PDU (service-provider source), issue A-P-ABORT indication, start ARTIM timer', next: 'Sta13' },
};

type Row = Partial<Record<State, Action>>;

/** Rows for the PDU events are alike: Sta2 aborts, Sta3..Sta12 abort as provider, Sta13 ignores. */
function pduRow(overrides: Row, sta2: Action = 'AA-1', sta13: Action = 'AA-6'): Row {
  const row: Row = { Sta2: sta2, Sta3: 'AA-8', Sta5: 'AA-8' };
  for (const s of ['Sta6', 'Sta7', 'Sta8', 'Sta9', 'Sta10', 'Sta11', 'Sta12'] as const) row[s] = 'AA-8';
  row.Sta13 = sta13;
  return { ...row, ...overrides };
}

const ESTABLISHED = ['Sta6', 'Sta7', 'Sta8', 'Sta9', 'Sta10', 'Sta11', 'Sta12'] as const;
function establishedRow(action: Action): Row {
  return Object.fromEntries(ESTABLISHED.map((s) => [s, action])) as Row;
}

/** PS3.8 Table 9-10. A missing cell is a local usage error (no action is defined). */
export const TRANSITIONS: Readonly<Record<Event, Readonly<Row>>> = {
  Evt1: { Sta1: 'AE-1' },
  Evt2: { Sta4: 'AE-2' },
  Evt3: pduRow({ Sta5: 'AE-3' }),
  Evt4: pduRow({ Sta5: 'AE-4' }),
  Evt5: { Sta1: 'AE-5' },
  Evt6: pduRow({ Sta2: 'AE-6' }, 'AE-6', 'AA-7'),
  Evt7: { Sta3: 'AE-7' },
  Evt8: { Sta3: 'AE-8' },
  Evt9: { Sta6: 'DT-1', Sta8: 'AR-7' },
  Evt10: pduRow({ Sta6: 'DT-2', Sta7: 'AR-6' }),
  Evt11: { Sta6: 'AR-1' },
  // A-RELEASE-RQ received while our own A-RELEASE-RQ is outstanding: release collision (PS3.8 7.2.2.7).
  Evt12: pduRow({ Sta6: 'AR-2', Sta7: 'AR-8' }),
  Evt13: pduRow({ Sta7: 'AR-3', Sta10: 'AR-10', Sta11: 'AR-3' }),
  Evt14: { Sta8: 'AR-4', Sta9: 'AR-9', Sta12: 'AR-4' },
  Evt15: { Sta3: 'AA-1', Sta4: 'AA-2', Sta5: 'AA-1', ...establishedRow('AA-1') },
  Evt16: { Sta2: 'AA-2', Sta3: 'AA-3', Sta5: 'AA-3', ...establishedRow('AA-3'), Sta13: 'AA-2' },
  Evt17: { Sta2: 'AA-5', Sta3: 'AA-4', Sta4: 'AA-4', Sta5: 'AA-4', ...establishedRow('AA-4'), Sta13: 'AR-5' },
  Evt18: { Sta2: 'AA-2', Sta13: 'AA-2' },
  Evt19: pduRow({}, 'AA-1', 'AA-7'),
};

export function actionFor(state: State, event: Event): Action | undefined {
  return TRANSITIONS[event][state];
}

/** Resolves an action's next state; `branch` answers AE-6 (acceptable?) and AR-8 (are we the requestor?). */
export function nextState(action: Action, branch: { acceptable?: boolean; requestor?: boolean } = {}): State {
  const next = ACTIONS[action].next;
  if (typeof next === 'string') return next;
  if ('acceptable' in next) return branch.acceptable === false ? next.unacceptable : next.acceptable;
  return branch.requestor === true ? next.requestor : next.acceptor;
}
