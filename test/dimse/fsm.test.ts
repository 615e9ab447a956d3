// The PS3.8 state machine, cell by cell: a scripted raw-socket peer drives our Association into a
// state, sends one event, and the test checks the table cell taken and what went on the wire.
import { describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Association, type AssociationUser, type Transition } from '../../src/dimse/association.ts';
import { ACTIONS, TRANSITIONS, actionFor, type Event, type State } from '../../src/dimse/fsm.ts';
import { decodePdu } from '../../src/dimse/pdu/decode.ts';
import { encodePdu } from '../../src/dimse/pdu/encode.ts';
import { PduFramer } from '../../src/dimse/pdu/framer.ts';
import type { AAssociateAc, AAssociateRq, PDataTf, Pdu } from '../../src/dimse/pdu/types.ts';

const RQ: AAssociateRq = {
  type: 'AAssociateRq',
  protocolVersion: 1,
  calledAe: 'SCP',
  callingAe: 'PEER',
  applicationContext: '1.2.840.10008.3.1.1.1',
  presentationContexts: [{ id: 1, abstractSyntax: '1.2.840.10008.1.1', transferSyntaxes: ['1.2.840.10008.1.2'] }],
  userInformation: { maxLength: 16384, implementationClassUid: '1.2.3' },
};
const AC: AAssociateAc = {
  type: 'AAssociateAc',
  protocolVersion: 1,
  calledAe: 'SCP',
  callingAe: 'PEER',
  applicationContext: '1.2.840.10008.3.1.1.1',
  presentationContexts: [{ id: 1, result: 0, transferSyntax: '1.2.840.10008.1.2' }],
  userInformation: { maxLength: 16384 },
};

/** Bytes that produce each PDU event (PS3.8 Table 9-2). */
const EVENT_BYTES: Partial<Record<Event, Buffer>> = {
  Evt3: encodePdu(AC),
  Evt4: encodePdu({ type: 'AAssociateRj', result: 1, source: 1, reason: 1 }),
  Evt6: encodePdu(RQ),
  Evt10: encodePdu({ type: 'PDataTf', pdvs: [{ contextId: 1, isCommand: true, isLast: true, data: Buffer.alloc(2) }] }),
  Evt12: encodePdu({ type: 'AReleaseRq' }),
  Evt13: encodePdu({ type: 'AReleaseRp' }),
  Evt16: encodePdu({ type: 'AAbort', source: 0, reason: 0 }),
  Evt19: Buffer.from('GET / HTTP/1.1\r\n\r\n'),
};

/** A scripted peer on a raw socket: sends bytes, collects PDUs, notices the close. */
class RawPeer {
  readonly received: Pdu[] = [];
  private readonly framer = new PduFramer({ maxPDataLength: 0, maxControlLength: 0 });
  private waiters: (() => void)[] = [];
  closed = false;
  constructor(readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      this.framer.push(d);
      for (let p = this.framer.take(); p; p = this.framer.take()) this.received.push(decodePdu(p));
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }
  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
  async until(cond: () => boolean): Promise<void> {
    while (!cond()) await new Promise<void>((r) => this.waiters.push(r));
  }
  send(b: Buffer): void {
    this.socket.write(b);
  }
  async pdu(type: Pdu['type']): Promise<Pdu> {
    await this.until(() => this.received.some((p) => p.type === type) || this.closed);
    const p = this.received.find((x) => x.type === type);
    assert.ok(p, `peer expected ${type}, got ${this.received.map((x) => x.type).join(',')} closed=${this.closed}`);
    return p;
  }
}

interface Harness {
  assoc: Association;
  peer: RawPeer;
  transitions: Transition[];
  user: TestUser;
  /** Resolves when a transition for `event` has been taken. */
  taken(event: Event, from?: State): Promise<Transition>;
  done(): void;
}

class TestUser implements AssociationUser {
  decide: ((rq: AAssociateRq) => Promise<{ accept: AAssociateAc } | { reject: never }>) | undefined;
  respondToRelease = true;
  closed = false;
  pdata = 0;
  assoc: Association | undefined;
  onAssociateRq(rq: AAssociateRq) {
    return this.decide ? this.decide(rq) : { accept: AC };
  }
  onPData() {
    this.pdata++;
  }
  onReleaseRq() {
    if (this.respondToRelease) this.assoc?.releaseResponse();
  }
  onClosed() {
    this.closed = true;
  }
}

function waitTaken(transitions: Transition[], listeners: (() => void)[], event: Event, from?: State): Promise<Transition> {
  return new Promise((resolve) => {
    const check = (): boolean => {
      const t = transitions.find((x) => x.event === event && (from === undefined || x.from === from));
      if (t) resolve(t);
      return t !== undefined;
    };
    if (!check()) listeners.push(() => void check());
  });
}

async function harness(role: 'acceptor' | 'requestor', user = new TestUser(), artimMs = 5_000): Promise<Harness> {
  const transitions: Transition[] = [];
  const listeners: (() => void)[] = [];
  const onTransition = (t: Transition): void => {
    transitions.push(t);
    for (const l of listeners) l();
  };
  const opts = { timeouts: { artimMs, idleMs: 0 }, onTransition };
  let assoc: Association;
  let peer: RawPeer;
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  if (role === 'acceptor') {
    const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
    peer = new RawPeer(net.connect({ host: '127.0.0.1', port }));
    assoc = new Association('acceptor', user, opts, await accepted);
  } else {
    const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
    assoc = new Association('requestor', user, opts);
    assoc.associate('127.0.0.1', port, RQ).catch(() => undefined);
    peer = new RawPeer(await accepted);
  }
  user.assoc = assoc;
  server.close();
  return {
    assoc,
    peer,
    transitions,
    user,
    taken: (e, from) => waitTaken(transitions, listeners, e, from),
    done: () => {
      peer.socket.destroy();
      assoc.abort();
    },
  };
}

/** Drives a fresh acceptor association into `state`. */
async function acceptorIn(state: State, artimMs = 5_000): Promise<Harness> {
  const user = new TestUser();
  let release: (() => void) | undefined;
  if (state === 'Sta3') user.decide = () => new Promise((r) => (release = () => r({ accept: AC })));
  if (state === 'Sta8' || state === 'Sta13') user.respondToRelease = false;
  const h = await harness('acceptor', user, artimMs);
  void release;
  if (state === 'Sta2') return h;
  h.peer.send(EVENT_BYTES.Evt6!);
  await h.taken('Evt6');
  if (state === 'Sta3') return h;
  await h.peer.pdu('AAssociateAc');
  if (state === 'Sta6') return h;
  if (state === 'Sta7') {
    void h.assoc.release().catch(() => undefined);
    await h.peer.pdu('AReleaseRq');
    return h;
  }
  h.peer.send(EVENT_BYTES.Evt12!);
  await h.taken('Evt12', 'Sta6');
  if (state === 'Sta8') return h;
  h.assoc.releaseResponse();
  await h.peer.pdu('AReleaseRp');
  assert.equal(h.assoc.state, 'Sta13');
  return h;
}

async function requestorIn(state: State): Promise<Harness> {
  const h = await harness('requestor');
  await h.peer.pdu('AAssociateRq');
  if (state === 'Sta5') return h;
  h.peer.send(EVENT_BYTES.Evt3!);
  await h.taken('Evt3');
  if (state === 'Sta6') return h;
  void h.assoc.release().catch(() => undefined);
  await h.peer.pdu('AReleaseRq');
  return h;
}

const PDU_EVENTS: Event[] = ['Evt3', 'Evt4', 'Evt6', 'Evt10', 'Evt12', 'Evt13', 'Evt16', 'Evt19'];

/** What the peer must see after an action (PS3.8 Table 9-9 for the aborts). */
async function checkWire(h: Harness, action: string): Promise<void> {
  if (action === 'AA-1') assert.equal(((await h.peer.pdu('AAbort')) as { source: number }).source, 0);
  if (action === 'AA-8' || action === 'AA-7') assert.equal(((await h.peer.pdu('AAbort')) as { source: number }).source, 2);
  if (action === 'AA-2' || action === 'AA-3' || action === 'AA-4' || action === 'AA-5' || action === 'AR-3') {
    await h.peer.until(() => h.peer.closed || h.assoc.state === 'Sta1');
    assert.equal(h.assoc.state, 'Sta1');
  }
  if (action === 'AA-6') assert.equal(h.peer.received.filter((p) => p.type === 'AAbort').length, 0);
}

for (const state of ['Sta2', 'Sta3', 'Sta6', 'Sta7', 'Sta8', 'Sta13'] as const) {
  describe(`acceptor ${state}`, () => {
    for (const event of [...PDU_EVENTS, 'Evt17' as const]) {
      const expected = actionFor(state, event)!;
      it(`${event} -> ${expected}`, async () => {
        const h = await acceptorIn(state);
        try {
          if (event === 'Evt17') h.peer.socket.end();
          else h.peer.send(EVENT_BYTES[event]!);
          const t = await h.taken(event, state);
          assert.equal(t.action, expected);
          await checkWire(h, expected);
          if (expected === 'DT-2' || expected === 'AR-6') assert.equal(h.user.pdata, 1);
          if (expected === 'AR-2') assert.equal(h.assoc.state, 'Sta13'); // user answered: AR-4 sent A-RELEASE-RP
          if (expected === 'AR-8') assert.equal(t.to, 'Sta10'); // acceptor side of a release collision
        } finally {
          h.done();
        }
      });
    }
  });
}

describe('acceptor timers and local primitives', () => {
  it('Sta2 Evt18 (ARTIM expired, no A-ASSOCIATE-RQ) -> AA-2', async () => {
    const h = await acceptorIn('Sta2', 30);
    const t = await h.taken('Evt18');
    assert.equal(t.action, 'AA-2');
    await h.peer.until(() => h.peer.closed);
    h.done();
  });
  it('Sta13 Evt18 (peer never closes after A-RELEASE-RP) -> AA-2', async () => {
    const h = await acceptorIn('Sta13', 30);
    const t = await h.taken('Evt18', 'Sta13');
    assert.equal(t.action, 'AA-2');
    h.done();
  });
  it('Sta3 Evt7 -> AE-7 sends A-ASSOCIATE-AC; Sta3 Evt8 -> AE-8 sends A-ASSOCIATE-RJ', async () => {
    const h = await acceptorIn('Sta6');
    assert.equal(h.transitions.find((t) => t.event === 'Evt7')?.action, 'AE-7');
    h.done();
    const user = new TestUser();
    user.decide = async () => ({ reject: { type: 'AAssociateRj', result: 1, source: 1, reason: 3 } }) as never;
    const r = await harness('acceptor', user);
    r.peer.send(EVENT_BYTES.Evt6!);
    assert.deepEqual(await r.peer.pdu('AAssociateRj'), { type: 'AAssociateRj', result: 1, source: 1, reason: 3 });
    assert.equal((await r.taken('Evt8')).action, 'AE-8');
    r.done();
  });
  it('Sta6 Evt9 -> DT-1, Evt15 -> AA-1', async () => {
    const h = await acceptorIn('Sta6');
    await h.assoc.sendPData([{ contextId: 1, isCommand: true, isLast: true, data: Buffer.alloc(4) }]);
    assert.equal((await h.taken('Evt9')).action, 'DT-1');
    assert.equal(((await h.peer.pdu('PDataTf')) as PDataTf).pdvs.length, 1);
    h.assoc.abort('test');
    assert.equal((await h.taken('Evt15')).action, 'AA-1');
    await checkWire(h, 'AA-1');
    h.done();
  });
  it('Sta8 Evt9 -> AR-7 (responses still go out while release is pending)', async () => {
    const h = await acceptorIn('Sta8');
    await h.assoc.sendPData([{ contextId: 1, isCommand: true, isLast: true, data: Buffer.alloc(4) }]);
    assert.equal((await h.taken('Evt9', 'Sta8')).action, 'AR-7');
    h.assoc.releaseResponse();
    assert.equal((await h.taken('Evt14', 'Sta8')).action, 'AR-4');
    await h.peer.pdu('AReleaseRp');
    h.done();
  });
  it('protocol version without bit 0 -> AE-6 rejects (A-ASSOCIATE-RJ, Sta13)', async () => {
    const h = await harness('acceptor');
    h.peer.send(encodePdu({ ...RQ, protocolVersion: 2 }));
    assert.deepEqual(await h.peer.pdu('AAssociateRj'), { type: 'AAssociateRj', result: 1, source: 2, reason: 2 });
    const t = await h.taken('Evt6');
    assert.equal(t.to, 'Sta13');
    h.done();
  });
});

describe('requestor Sta5', () => {
  for (const event of [...PDU_EVENTS, 'Evt17' as const]) {
    const expected = actionFor('Sta5', event)!;
    it(`${event} -> ${expected}`, async () => {
      const h = await requestorIn('Sta5');
      try {
        if (event === 'Evt17') h.peer.socket.end();
        else h.peer.send(EVENT_BYTES[event]!);
        const t = await h.taken(event, 'Sta5');
        assert.equal(t.action, expected);
        await checkWire(h, expected);
      } finally {
        h.done();
      }
    });
  }
});

/** Acceptor in Sta10: its A-RELEASE-RQ crossed the peer's; it waits for the peer's A-RELEASE-RP. */
async function acceptorInSta10(): Promise<Harness> {
  const h = await acceptorIn('Sta7');
  h.peer.send(EVENT_BYTES.Evt12!);
  await h.taken('Evt12', 'Sta7');
  return h;
}

/** Requestor in Sta11: it answered the collision with A-RELEASE-RP and waits for the acceptor's. */
async function requestorInSta11(): Promise<Harness> {
  const h = await requestorIn('Sta7');
  h.peer.send(EVENT_BYTES.Evt12!);
  await h.taken('Evt14', 'Sta9');
  return h;
}

for (const [state, drive] of [
  ['Sta10', acceptorInSta10],
  ['Sta11', requestorInSta11],
] as const) {
  describe(`collision ${state}`, () => {
    for (const event of [...PDU_EVENTS, 'Evt17' as const]) {
      const expected = actionFor(state, event)!;
      it(`${event} -> ${expected}`, async () => {
        const h = await drive();
        try {
          if (event === 'Evt17') h.peer.socket.end();
          else h.peer.send(EVENT_BYTES[event]!);
          const t = await h.taken(event, state);
          assert.equal(t.action, expected);
          if (expected !== 'AR-10' && expected !== 'AR-3') await checkWire(h, expected);
        } finally {
          h.done();
        }
      });
    }
  });
}

describe('requestor Sta4', () => {
  it('Evt17 (connection refused) -> AA-4', async () => {
    const transitions: Transition[] = [];
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((r) => server.close(r));
    const a = new Association('requestor', new TestUser(), { onTransition: (t) => transitions.push(t) });
    await assert.rejects(a.associate('127.0.0.1', port, RQ), (e: Error & { code?: string }) => e.code === 'DIMSE_CONNECT');
    assert.deepEqual(
      transitions.map((t) => `${t.from} ${t.event} ${t.action}`),
      ['Sta1 Evt1 AE-1', 'Sta4 Evt17 AA-4'],
    );
  });
  it('Evt15 (local abort while connecting) -> AA-2', async () => {
    const transitions: Transition[] = [];
    const server = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const a = new Association('requestor', new TestUser(), { onTransition: (t) => transitions.push(t) });
    const p = a.associate('127.0.0.1', (server.address() as net.AddressInfo).port, RQ);
    a.abort('changed my mind');
    await assert.rejects(p);
    server.close();
    assert.equal(transitions[1].action, 'AA-2');
  });
});

describe('release collision (PS3.8 7.2.2.7)', () => {
  it('requestor: Sta7 Evt12 -> AR-8 (Sta9), AR-9 sends A-RELEASE-RP (Sta11), Evt13 -> AR-3', async () => {
    const h = await requestorIn('Sta7');
    h.peer.send(EVENT_BYTES.Evt12!);
    const collision = await h.taken('Evt12', 'Sta7');
    assert.equal(collision.action, 'AR-8');
    assert.equal(collision.to, 'Sta9');
    assert.equal((await h.taken('Evt14', 'Sta9')).action, 'AR-9');
    await h.peer.pdu('AReleaseRp');
    assert.equal(h.assoc.state, 'Sta11');
    h.peer.send(EVENT_BYTES.Evt13!);
    assert.equal((await h.taken('Evt13', 'Sta11')).action, 'AR-3');
    assert.equal(h.assoc.state, 'Sta1');
    h.done();
  });
  it('acceptor: Sta7 Evt12 -> AR-8 (Sta10), Evt13 -> AR-10 (Sta12), then AR-4 sends A-RELEASE-RP', async () => {
    const h = await acceptorIn('Sta7');
    h.peer.send(EVENT_BYTES.Evt12!);
    assert.equal((await h.taken('Evt12', 'Sta7')).to, 'Sta10');
    // The acceptor waits for the requestor's A-RELEASE-RP before sending its own.
    assert.equal(h.peer.received.filter((p) => p.type === 'AReleaseRp').length, 0);
    h.peer.send(EVENT_BYTES.Evt13!);
    assert.equal((await h.taken('Evt13', 'Sta10')).action, 'AR-10');
    assert.equal((await h.taken('Evt14', 'Sta12')).action, 'AR-4');
    await h.peer.pdu('AReleaseRp');
    h.peer.socket.end();
    assert.equal((await h.taken('Evt17', 'Sta13')).action, 'AR-5');
    h.done();
  });
  it('requestor: Sta7 Evt10 -> AR-6 (data still delivered), Evt13 -> AR-3 (released)', async () => {
    const h = await requestorIn('Sta7');
    h.peer.send(EVENT_BYTES.Evt10!);
    assert.equal((await h.taken('Evt10', 'Sta7')).action, 'AR-6');
    h.peer.send(EVENT_BYTES.Evt13!);
    assert.equal((await h.taken('Evt13', 'Sta7')).action, 'AR-3');
    h.done();
  });
});

test('Table 9-10 as data: every cell names a defined action, and the spot checks of the standard hold', () => {
  let cells = 0;
  for (const [event, row] of Object.entries(TRANSITIONS)) {
    for (const [state, action] of Object.entries(row)) {
      assert.ok(ACTIONS[action as keyof typeof ACTIONS], `${state} ${event}`);
      cells++;
    }
  }
  assert.equal(cells, 123); // as counted in PS3.8 Table 9-10
  assert.equal(actionFor('Sta6', 'Evt10'), 'DT-2');
  assert.equal(actionFor('Sta7', 'Evt12'), 'AR-8');
  assert.equal(actionFor('Sta10', 'Evt13'), 'AR-10');
  assert.equal(actionFor('Sta13', 'Evt6'), 'AA-7');
  assert.equal(actionFor('Sta4', 'Evt15'), 'AA-2');
  assert.equal(actionFor('Sta1', 'Evt10'), undefined);
});
