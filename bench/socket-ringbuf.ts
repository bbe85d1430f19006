/**
 * Bytes per second into a ringbuf and out of ringbuf-read, chardevd
 * against QEMU 7.2 in the same run:
 *  - QMP only (what both can do): ringbuf-write of 48 KiB and ringbuf-read
 *    of 64 KiB alternating, base64, over one connection;
 *  - chardevd's console path: a client writes into a unix socket chardev
 *    linked to the ringbuf (the way a guest's serial port feeds it) while
 *    ringbuf-read drains it. QEMU has no link device, so it has no column
 *    for this row. The writer never lets the ringbuf overflow, and the
 *    bytes read are checked against the bytes written.
 * Run: npm run bench:socket-ringbuf [-- --seconds N]
 */
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startChardevd, startQemu, type ServerProcess } from '../test/support/servers.js';
import { comparisonTable } from './support/compare.js';
import { describeRun, QEMU_PEER } from './support/machine.js';
import { RawQmp } from './support/raw-qmp.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '2' } } });
const SECONDS = Number(values.seconds);
const RING_SIZE = 1 << 20;
const WRITE_SIZE = 48 << 10;
const READ_SIZE = 64 << 10;
const SOCKET_CHUNK = 32 << 10;
const SOCKET_READ_SIZE = 256 << 10;

/** A byte pattern that shows lost, repeated or reordered bytes in the hash. */
function pattern(offset: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = ((offset + i) * 31 + ((offset + i) >>> 11)) & 0xff;
  return out;
}

async function readBase64(raw: RawQmp, size: number): Promise<Buffer> {
  const reply = (await raw.request(`{"execute":"ringbuf-read","arguments":{"device":"console","size":${size},"format":"base64"}}`)) as { return?: string };
  if (typeof reply.return !== 'string') throw new Error(`ringbuf-read failed: ${JSON.stringify(reply)}`);
  return Buffer.from(reply.return, 'base64');
}

/** ringbuf-write and ringbuf-read alternating; bytes read per second. */
async function qmpPath(server: ServerProcess): Promise<number> {
  const raw = await RawQmp.open(server.qmpPath);
  try {
    const data = pattern(0, WRITE_SIZE).toString('base64');
    const write = `{"execute":"ringbuf-write","arguments":{"device":"console","data":"${data}","format":"base64"}}`;
    let bytes = 0;
    const start = performance.now();
    const end = start + SECONDS * 1000;
    while (performance.now() < end) {
      await raw.request(write);
      bytes += (await readBase64(raw, READ_SIZE)).length;
    }
    return bytes / ((performance.now() - start) / 1000);
  } finally {
    raw.close();
  }
}

/** A client writing into the linked socket chardev, ringbuf-read draining the ringbuf; bytes per second, checked. */
async function socketPath(server: ServerProcess): Promise<number> {
  const raw = await RawQmp.open(server.qmpPath);
  const guest = connect(join(server.dir, 'guest.sock'));
  await new Promise<void>((resolve, reject) => guest.once('connect', resolve).once('error', reject));
  try {
    const sent = createHash('sha256');
    const received = createHash('sha256');
    let written = 0;
    let read = 0;
    const start = performance.now();
    const end = start + SECONDS * 1000;
    let writing = true;
    while (writing || read < written) {
      if (writing && performance.now() >= end) writing = false;
      while (writing && written - read + SOCKET_CHUNK <= RING_SIZE) {
        const chunk = pattern(written, SOCKET_CHUNK);
        sent.update(chunk);
        guest.write(chunk);
        written += SOCKET_CHUNK;
      }
      const data = await readBase64(raw, SOCKET_READ_SIZE);
      received.update(data);
      read += data.length;
    }
    const seconds = (performance.now() - start) / 1000;
    if (sent.digest('hex') !== received.digest('hex')) throw new Error('the bytes read differ from the bytes written');
    return read / seconds;
  } finally {
    guest.destroy();
    raw.close();
  }
}

console.log(describeRun([QEMU_PEER()]));
const ring = `ringbuf,id=console,size=${RING_SIZE}`;
const qemu = await startQemu(['-chardev', ring]);
const chardevd = await startChardevd((dir) => [
  '-chardev',
  ring,
  '-chardev',
  `socket,id=guest,path=${join(dir, 'guest.sock')},server=on,wait=off`,
  '-device',
  'link,id=l0,chardev=guest,peer=console',
]);
try {
  const theirs = await qmpPath(qemu);
  const ours = await qmpPath(chardevd);
  const linked = await socketPath(chardevd);
  const mib = (n: number): number => n / (1 << 20);
  console.log(`MiB/s into a ${RING_SIZE >> 10} KiB ringbuf and out of ringbuf-read (base64), ${SECONDS} s each; QEMU has no link device`);
  console.log(
    comparisonTable('QEMU 7.2', [
      { measure: 'ringbuf-write 48 KiB + ringbuf-read 64 KiB (QMP), MiB/s', ours: mib(ours), peer: mib(theirs), digits: 2 },
      { measure: 'socket chardev -> link -> ringbuf -> ringbuf-read, MiB/s', ours: mib(linked), peer: NaN, digits: 2 },
    ]),
  );
} finally {
  await Promise.all([qemu.stop(), chardevd.stop()]);
}
