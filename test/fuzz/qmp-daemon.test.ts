import { suite, test } from 'node:test';
import fc from 'fast-check';
import { JSON_PARSER_DEFAULTS } from '../../src/qobject/json-stream-parser.js';
import { checkProperty } from '../support/fuzz-run.js';
import { Connection } from '../support/qmp-transcript.js';
import { type ServerProcess, startChardevd } from '../support/servers.js';
import { inputChunks, type QmpInput, qmpInput, syncRequest } from './qmp-input.js';
import { checkReply } from './qmp-reply.js';

/**
 * The QMP stream against a real daemon process: each input on a fresh
 * connection, cut into separate writes, then a query-version that must be
 * answered. The daemon must stay up and never log an internal error.
 */

/** Chardevs for the commands to find, as the in-process harness has them. */
const CHARDEVS = ['ringbuf,id=r0,size=1024', 'null,id=n0', 'null,id=m0', 'hub,id=h0,chardevs.0=m0'];

let inputs = 0;

async function feed(daemon: ServerProcess, input: QmpInput): Promise<void> {
  const sync = `sync-${++inputs}`;
  const connection = await Connection.open(daemon.qmpPath);
  try {
    await connection.until((lines) => lines.length >= 1, 'the greeting');
    const chunks = inputChunks(input);
    for (const chunk of chunks) connection.socket.write(chunk);
    connection.socket.write(syncRequest(sync));
    await connection.until((lines) => lines.some((line) => line.includes(`"id": "${sync}"`)), `the reply to ${sync}`);
    if (connection.closed) throw new Error('the daemon closed the connection');
    const bytes = Buffer.concat(chunks);
    const text = `${bytes.toString('latin1')}\n${bytes.toString('utf8')}`;
    for (const line of connection.lines) checkReply(line, text);
  } finally {
    connection.socket.destroy();
  }
  if (daemon.stderr().includes('internal error')) throw new Error(`the daemon logged: ${daemon.stderr().slice(-600)}`);
}

suite('fuzz: the QMP stream of a daemon process', () => {
  test('every reply is a QMP message without internals; the daemon stays up, logs no internal error and answers after each input', async (t) => {
    const daemon = await startChardevd(CHARDEVS.flatMap((chardev) => ['-chardev', chardev]));
    try {
      const exited = daemon.exited.then((code) => {
        throw new Error(`the daemon exited with ${code}: ${daemon.stderr().slice(-600)}`);
      });
      exited.catch(() => undefined);
      await checkProperty(
        t,
        fc.asyncProperty(qmpInput(JSON_PARSER_DEFAULTS, 64 << 10), (input) => Promise.race([feed(daemon, input), exited])),
        80,
        0.02,
      );
    } finally {
      await daemon.stop();
    }
  });
});
