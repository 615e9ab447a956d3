import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMMAND_FIELD, NO_DATASET, decodeCommand, encodeCommand, type Command } from '../../src/dimse/command-set.ts';

test('round trip of every command field, with CommandGroupLength first', () => {
  const cmd: Command = {
    commandField: COMMAND_FIELD.CMoveRsp,
    commandDataSetType: NO_DATASET,
    messageIdBeingRespondedTo: 7,
    affectedSopClassUid: '1.2.840.10008.5.1.4.1.2.2.2',
    affectedSopInstanceUid: '1.2.3',
    requestedSopClassUid: '1.2.4',
    requestedSopInstanceUid: '1.2.5',
    priority: 0,
    status: 0xff00,
    offendingElement: [0x00100010, 0x0020000d],
    errorComment: 'odd',
    errorId: 3,
    moveDestination: 'DEST',
    numberOfRemainingSuboperations: 4,
    numberOfCompletedSuboperations: 5,
    numberOfFailedSuboperations: 6,
    numberOfWarningSuboperations: 1,
    moveOriginatorApplicationEntityTitle: 'ORIG',
    moveOriginatorMessageId: 9,
    messageId: 2,
  };
  const b = encodeCommand(cmd);
  assert.equal(b.readUInt32LE(0), 0x00000000); // (0000,0000)
  assert.equal(b.readUInt32LE(4), 4);
  assert.equal(b.readUInt32LE(8), b.length - 12); // group length counts what follows it
  assert.equal(b.length % 2, 0);
  assert.deepEqual(decodeCommand(b), cmd);
});

test('UIDs pad with NUL, AE and LO with space (PS3.5 6.2)', () => {
  const b = encodeCommand({ commandField: 1, commandDataSetType: 0, affectedSopInstanceUid: '1.2.3', moveDestination: 'ABC' });
  assert.ok(b.includes(Buffer.from('1.2.3\0')));
  assert.ok(b.includes(Buffer.from('ABC ')));
});

test('malformed command sets are coded errors', () => {
  assert.throws(() => decodeCommand(Buffer.from('0000000004000000', 'hex')), /DIMSE|truncated|missing|overruns/);
  const good = encodeCommand({ commandField: 0x30, commandDataSetType: NO_DATASET, messageId: 1 });
  assert.throws(() => decodeCommand(good.subarray(0, good.length - 1)), (e: Error & { code?: string }) => e.code === 'DIMSE_COMMAND_INVALID');
  const other = Buffer.from(good);
  other.writeUInt16LE(0x0008, 12);
  assert.throws(() => decodeCommand(other), /outside group 0000/);
  assert.throws(() => decodeCommand(encodeCommand({ commandField: 0x30 } as Command)), /CommandDataSetType/);
});
