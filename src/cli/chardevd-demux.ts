#!/usr/bin/env node
/**
 * chardevd-demux: the other end of chardevd's demux device, for a guest
 * (or any host) that has Node and nothing else. It runs the demux
 * protocol over a byte stream and joins channels to local sockets.
 */
import { closeSync, fstatSync, openSync, createReadStream, createWriteStream } from 'node:fs';
import * as net from 'node:net';
import { Duplex, type Readable, type Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { isServiceName } from '../demux/codes.js';
import type { DemuxCloseInfo } from '../demux/channel.js';
import type { DemuxTarget } from '../demux/payloads.js';
import { type DemuxAddress, parseDemuxAddress } from '../device/demux-address.js';
import { DemuxEndpoint } from '../device/demux-endpoint.js';

const USAGE = `usage: chardevd-demux TRANSPORT [options]

TRANSPORT is the byte stream chardevd's demux device is at the other end of:
  /dev/vport0p1, /dev/virtio-ports/NAME   a virtio-serial port (a character device)
  /dev/ttyS1                              a serial line (set it raw first: stty raw -echo)
  unix:PATH, tcp:HOST:PORT                a socket
  -                                       standard input and output

Options:
  --service NAME=ADDR       channels the host opens to NAME (a service name, or
                            port:N) connect to ADDR (unix:PATH or
                            tcp:HOST:PORT); repeatable
  --forward ADDR=TARGET     each connection to ADDR (a unix or TCP listener made
                            here) opens a channel to TARGET on the host: a service
                            name, or port:N; repeatable
  --connect TARGET          open one channel to TARGET and join it to standard
                            input and output (TRANSPORT must not be -); exits
                            when the channel ends
  --role primary|secondary  this end's role (default secondary; chardevd is primary)
  --verbose                 log the session's events on standard error
  -h, --help                print this help
`;

function fail(message: string): never {
  process.stderr.write(`chardevd-demux: ${message}\n`);
  process.exit(2);
}

function target(text: string): DemuxTarget {
  const port = /^port:(\d{1,10})$/.exec(text);
  if (port !== null && Number(port[1]) <= 0xffffffff) return { port: Number(port[1]) };
  if (!isServiceName(text)) fail(`'${text}' is no service name or port:N`);
  return { name: text };
}

function address(text: string): DemuxAddress {
  try {
    return parseDemuxAddress(text, 'address');
  } catch (error: unknown) {
    return fail(error instanceof Error ? error.message : String(error));
  }
}

/** The transport's two halves. A character device is read and written through its descriptor (a virtio port is no socket or tty for Node's net). */
async function transport(text: string): Promise<{ input: Readable; output: Writable }> {
  if (text === '-') return { input: process.stdin, output: process.stdout };
  if (text.startsWith('unix:') || text.startsWith('tcp:')) {
    const where = address(text);
    const socket = where.type === 'unix' ? net.connect(where.path) : net.connect(where.port, where.host);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    }).catch((error: unknown) => fail(`cannot connect to ${text}: ${error instanceof Error ? error.message : String(error)}`));
    return { input: socket, output: socket };
  }
  let fd: number;
  try {
    fd = openSync(text, 'r+');
  } catch (error: unknown) {
    return fail(`cannot open ${text}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!fstatSync(fd).isCharacterDevice()) {
    closeSync(fd);
    fail(`${text} is not a character device, unix:PATH, tcp:HOST:PORT or -`);
  }
  return { input: createReadStream('', { fd, autoClose: false, highWaterMark: 64 << 10 }), output: createWriteStream('', { fd, autoClose: false }) };
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        service: { type: 'string', multiple: true },
        forward: { type: 'string', multiple: true },
        connect: { type: 'string' },
        role: { type: 'string' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error: unknown) {
    fail(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    process.stdout.write(USAGE);
    return;
  }
  if (positionals.length !== 1) fail('give one TRANSPORT (chardevd-demux --help)');
  const role = values.role ?? 'secondary';
  if (role !== 'primary' && role !== 'secondary') fail(`--role ${role}: primary or secondary`);
  const services = new Map<string, DemuxAddress>();
  for (const item of values.service ?? []) {
    const eq = item.indexOf('=');
    if (eq < 0) fail(`--service ${item}: NAME=ADDR`);
    const to = target(item.slice(0, eq));
    services.set('name' in to ? to.name : `port:${to.port}`, address(item.slice(eq + 1)));
  }
  const forwards = (values.forward ?? []).map((item) => {
    const eq = item.lastIndexOf('=');
    if (eq < 0) fail(`--forward ${item}: ADDR=TARGET`);
    return { from: address(item.slice(0, eq)), to: target(item.slice(eq + 1)) };
  });
  if (values.connect !== undefined && positionals[0] === '-') fail('--connect joins standard input and output, so TRANSPORT cannot be -');
  const { input, output } = await transport(positionals[0]!);
  const log = values.verbose === true ? (message: string) => process.stderr.write(`chardevd-demux: ${message}\n`) : undefined;
  const endpoint = new DemuxEndpoint(input, output, { role, services, ...(log !== undefined ? { log } : {}) });
  process.on('SIGTERM', () => {
    endpoint.close();
    process.exit(0);
  });
  await endpoint.ready;
  for (const { from, to } of forwards) {
    await endpoint.forward(from, to).catch((error: unknown) => fail(`cannot listen: ${error instanceof Error ? error.message : String(error)}`));
  }
  if (values.connect !== undefined) {
    const stdio = Duplex.from({ readable: process.stdin, writable: process.stdout });
    const closed = new Promise<DemuxCloseInfo>((resolve) => {
      endpoint.connect(target(values.connect!), stdio, resolve).catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
    });
    const info = await closed;
    process.exit(info.code === 0 ? 0 : 1);
  }
  await endpoint.ended;
  endpoint.close();
}

await main();
