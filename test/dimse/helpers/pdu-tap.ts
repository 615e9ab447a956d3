// A transparent TCP proxy for tests: forwards bytes unchanged both ways and records, from the
// requestor's side, each DIMSE dataset exactly as it travelled in P-DATA-TF PDVs. Lets a test
// compare what a third-party peer put on the wire with what our SCP handed to its sink.
import net from 'node:net';
import { decodePdu } from '../../../src/dimse/pdu/decode.ts';
import { PduFramer } from '../../../src/dimse/pdu/framer.ts';

export interface PduTap {
  readonly port: number;
  /** Datasets sent by requestors, in order, one Buffer per DIMSE message that carried one. */
  readonly datasets: Buffer[];
  close(): Promise<void>;
}

export function startPduTap(targetPort: number): Promise<PduTap> {
  const datasets: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort, noDelay: true });
    sockets.add(client);
    sockets.add(upstream);
    const framer = new PduFramer({ maxPDataLength: 0, maxControlLength: 0 });
    let current: Buffer[] = [];
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      framer.push(chunk);
      for (let raw = framer.take(); raw; raw = framer.take()) {
        const pdu = decodePdu(raw);
        if (pdu.type !== 'PDataTf') continue;
        for (const pdv of pdu.pdvs) {
          if (pdv.isCommand) continue;
          current.push(Buffer.from(pdv.data));
          if (pdv.isLast) {
            datasets.push(Buffer.concat(current));
            current = [];
          }
        }
      }
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        datasets,
        close: () =>
          new Promise<void>((res) => {
            for (const s of sockets) s.destroy();
            server.close(() => res());
          }),
      });
    });
  });
}
