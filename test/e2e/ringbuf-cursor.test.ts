import assert from 'node:assert/strict';
import { after, before, suite, test } from 'node:test';
import { QmpClient } from '../../src/client/qmp-client.js';
import { type ServerProcess, startChardevd } from '../support/servers.js';

const WAIT_MS = 10_000;

/**
 * ringbuf-read-cursor over QMP: the reply's shape, errors as GenericError,
 * the extension marked in introspection, and QEMU's destructive
 * ringbuf-read unchanged beside it.
 */
suite('ringbuf-read-cursor over QMP', () => {
  let daemon: ServerProcess;
  let client: QmpClient;

  before(async () => {
    daemon = await startChardevd(['-chardev', 'ringbuf,id=log,size=16', '-chardev', 'null,id=n']);
    client = await QmpClient.connect(daemon.qmpPath, { connectTimeoutMs: WAIT_MS });
  });

  after(async () => {
    client?.close();
    await daemon?.stop();
  });

  test('two readers follow the same ring by cursor while ringbuf-read consumes it as QEMU does', async () => {
    await client.execute('ringbuf-write', { device: 'log', data: 'boot: ok\nlogin: ' });
    const first = await client.execute('ringbuf-read-cursor', { device: 'log', cursor: 0, size: 9 });
    assert.deepEqual(first, { data: 'boot: ok\n', cursor: 9, lost: 0, start: 0, end: 16 });
    assert.equal(await client.execute('ringbuf-read', { device: 'log', size: 100 }), 'boot: ok\nlogin: ');
    assert.equal(await client.execute('ringbuf-read', { device: 'log', size: 100 }), '');
    await client.execute('ringbuf-write', { device: 'log', data: 'root\n' });
    assert.deepEqual(await client.execute('ringbuf-read-cursor', { device: 'log', cursor: 9 }), { data: 'login: root\n', cursor: 21, lost: 0, start: 5, end: 21 });
    assert.deepEqual(await client.execute('ringbuf-read-cursor', { device: 'log', cursor: 0, format: 'base64' }), {
      data: Buffer.from(' ok\nlogin: root\n').toString('base64'),
      cursor: 21,
      lost: 5,
      start: 5,
      end: 21,
    });
  });

  test('mistakes are GenericErrors with a reason', async () => {
    const failure = async (args: object) => {
      try {
        await client.execute('ringbuf-read-cursor', args);
      } catch (error: unknown) {
        const { errorClass, desc } = error as { errorClass: string; desc: string };
        return `${errorClass}: ${desc}`;
      }
      return 'no error';
    };
    assert.equal(await failure({ device: 'nope' }), "GenericError: Device 'nope' not found");
    assert.equal(await failure({ device: 'n' }), 'GenericError: n is not a ringbuf device');
    assert.match(await failure({ device: 'log', cursor: 1e6 }), /^GenericError: cursor 1000000 is beyond the end of 'log' \(\d+ bytes written\)$/);
    assert.equal(await failure({ device: 'log', cursor: -1 }), 'GenericError: cursor must be between 0 and 9007199254740991');
    assert.equal(await failure({ device: 'log', size: 0 }), 'GenericError: size must be greater than zero');
    assert.equal(await failure({ device: 'log', cursor: '5' }), "GenericError: Invalid parameter type for 'cursor', expected: integer");
  });

  test('introspection marks the command and its reply as chardevd extensions', async () => {
    const schema = (await client.execute('query-qmp-schema')) as { name: string; 'meta-type': string; features?: string[]; 'ret-type'?: string }[];
    const command = schema.find((entry) => entry.name === 'ringbuf-read-cursor');
    assert.deepEqual(command?.features, ['chardevd-extension']);
    const reply = schema.find((entry) => entry.name === command?.['ret-type']);
    assert.deepEqual(reply?.features, ['chardevd-extension']);
  });
});
