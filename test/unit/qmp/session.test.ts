import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { suite, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { QmpCommandHandlers } from '../../../src/generated/qapi-commands.gen.js';
import { type CommandSpec, InputValidator } from '../../../src/qapi-runtime/index.js';
import { QmpDispatcher } from '../../../src/qmp/dispatch.js';
import { QMP_SESSION_DEFAULTS, QmpSession, type QmpSessionLimits } from '../../../src/qmp/session.js';
import type { QmpTransport, QmpTransportHandlers } from '../../../src/qmp/transport.js';

const specs: CommandSpec[] = [{ name: 'later', boxed: false, allowOob: false, allowPreconfig: false, features: [] }];

/** A transport whose peer reads only when told to. */
class PeerTransport implements QmpTransport {
  readonly peer = 'test';
  handlers!: QmpTransportHandlers;
  /** Everything written, read or not. */
  written = '';
  /** Of `written`, how many characters the peer has not read. */
  unread = 0;
  /** The most output ever left unread at once. */
  mostUnread = 0;
  reading = true;
  destroyed = false;

  backlog(): number {
    return this.unread;
  }

  bind(handlers: QmpTransportHandlers): void {
    this.handlers = handlers;
  }

  write(text: string): void {
    this.written += text;
    this.unread += text.length;
    this.mostUnread = Math.max(this.mostUnread, this.unread);
  }

  setReading(reading: boolean): void {
    this.reading = reading;
  }

  destroy(): void {
    this.destroyed = true;
  }

  end(): void {}

  /** The peer reads everything waiting. */
  readAll(): void {
    this.unread = 0;
    this.handlers.drain();
  }
}

function setup(limits: Partial<QmpSessionLimits> = {}): { session: QmpSession<null>; transport: PeerTransport; closed: QmpSession<null>[] } {
  const handlers = { later: () => new Promise((resolve) => setImmediate(() => resolve({}))) } as unknown as QmpCommandHandlers<null>;
  const dispatcher = new QmpDispatcher<null>({
    specs,
    handlers,
    validator: new InputValidator({}),
    toQmpError: () => undefined,
    reportInternalError: () => {},
  });
  const closed: QmpSession<null>[] = [];
  const transport = new PeerTransport();
  const host = { dispatcher, greeting: { QMP: {} }, contextFor: () => null, sessionClosed: (s: QmpSession<null>) => closed.push(s), log: () => {} };
  const session = new QmpSession<null>(host, transport, false, { ...QMP_SESSION_DEFAULTS, ...limits });
  transport.readAll(); // the greeting
  return { session, transport, closed };
}

/** Lets the session take its turns until it writes nothing more and reads again or waits for the peer; bounded. */
async function settle(transport: PeerTransport): Promise<void> {
  for (let idle = 0, turns = 0; idle < 5 && turns < 100_000; turns++) {
    const before = transport.written.length;
    await nextTurn();
    idle = transport.written.length === before && (transport.reading || transport.unread > 0) ? idle + 1 : 0;
  }
}

/** Feeds `input` as one chunk and reads whenever the session has stopped writing, until it has answered everything. */
async function feedAndReadSlowly(transport: PeerTransport, input: string): Promise<void> {
  transport.handlers.data(Buffer.from(input, 'latin1'));
  for (let rounds = 0; rounds < 100_000; rounds++) {
    await settle(transport);
    if (transport.unread === 0 && transport.reading) return;
    transport.readAll();
  }
  assert.fail('the session never finished');
}

const EXPECTING_VALUE = '{"error": {"class": "GenericError", "desc": "JSON parse error, expecting value"}}\r\n';
const NOT_AN_OBJECT = '{"error": {"class": "GenericError", "desc": "QMP input must be a JSON object"}}\r\n';

suite('QmpSession', () => {
  test('one chunk that makes thousands of errors is answered only as fast as the client reads, every error in order', async () => {
    const pause = 4 << 10;
    const { transport } = setup({ outputPauseBytes: pause });
    const greeting = transport.written;
    // A number ends at the next byte: the space lets the last one go.
    await feedAndReadSlowly(transport, `${']1'.repeat(5_000)} `);
    const replies = transport.written.slice(greeting.length);
    assert.equal(replies.split('\r\n').length - 1, 10_000);
    assert.ok(replies === (EXPECTING_VALUE + NOT_AN_OBJECT).repeat(5_000), 'the replies differ from the errors expected');
    assert.ok(transport.mostUnread <= pause + NOT_AN_OBJECT.length, `${transport.mostUnread} characters left unread at once`);
    assert.equal(transport.reading, true);
  });

  test('paced replies are the bytes unpaced ones are, whatever the mix of input', async () => {
    const input = `{"execute": "later", "id": 1} ]] {"execute": "nope"} \x01 [1, 2 'x ${'{"execute":"later"}'.repeat(30)} 7 {"id": 2}`.repeat(40);
    const paced = setup({ outputPauseBytes: 256, maxQueuedRequests: 2 });
    const unpaced = setup({ outputPauseBytes: Number.MAX_SAFE_INTEGER });
    paced.session.negotiate([]);
    unpaced.session.negotiate([]);
    await feedAndReadSlowly(paced.transport, input);
    await feedAndReadSlowly(unpaced.transport, input);
    assert.equal(paced.transport.written.length, unpaced.transport.written.length);
    assert.ok(paced.transport.written === unpaced.transport.written, 'paced and unpaced replies differ');
  });

  test('a flood is parsed a slice at a time, so other connections are served in between', async () => {
    const { transport } = setup({ outputPauseBytes: Number.MAX_SAFE_INTEGER });
    const greeting = transport.written.length;
    transport.handlers.data(Buffer.from(']'.repeat(2_000)));
    const first = (transport.written.length - greeting) / EXPECTING_VALUE.length;
    assert.ok(first > 0 && first < 2_000, `${first} of 2000 replies in the first turn`);
    assert.equal(transport.reading, false, 'no more input is read while some waits to be parsed');
    await settle(transport);
    assert.equal(transport.written.length - greeting, 2_000 * EXPECTING_VALUE.length);
    assert.equal(transport.reading, true);
  });

  test('a message of many tokens is lexed a slice at a time too', async () => {
    const { transport } = setup();
    const greeting = transport.written.length;
    transport.handlers.data(Buffer.from(`[${'1,'.repeat(100_000)}1]`));
    assert.equal(transport.written.length, greeting, 'the message is not complete after the first turn');
    assert.equal(transport.reading, false);
    await settle(transport);
    assert.equal(transport.written.slice(greeting), NOT_AN_OBJECT);
    assert.equal(transport.reading, true);
  });

  test('input a chardev hands over piece by piece in one callback counts against one turn', async () => {
    const { transport } = setup();
    const greeting = transport.written.length;
    // As Chardev.acceptInput() does: whenever the frontend reads again, the next piece arrives at once.
    const input = Buffer.from(`[${'1,'.repeat(50_000)}1]`);
    const pieces = Array.from({ length: Math.ceil(input.length / 4096) }, (_, i) => input.subarray(i * 4096, (i + 1) * 4096));
    let delivered = 0;
    const deliver = (): void => {
      while (transport.reading && delivered < pieces.length) transport.handlers.data(pieces[delivered++]!);
    };
    transport.setReading = (reading: boolean): void => {
      transport.reading = reading;
      deliver();
    };
    deliver();
    assert.ok(delivered < pieces.length / 4, `${delivered} of ${pieces.length} pieces taken in the first turn`);
    for (let turns = 0; delivered < pieces.length && turns < 10_000; turns++) await nextTurn();
    await settle(transport);
    assert.equal(transport.written.slice(greeting), NOT_AN_OBJECT);
  });

  test('closing drops input not parsed yet and ends the session', async () => {
    const { session, transport, closed } = setup({ outputPauseBytes: 1024 });
    transport.handlers.data(Buffer.from(']'.repeat(10_000)));
    assert.ok(transport.unread > 0);
    transport.handlers.gone();
    const written = transport.written.length;
    transport.readAll();
    await settle(transport);
    assert.equal(transport.written.length, written, 'nothing is answered after the close');
    assert.deepEqual(closed, [session]);
    assert.equal(transport.destroyed, true);
  });

  test('a closed session is garbage, with the input it had not parsed and the message it was collecting', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const ref = ((): WeakRef<QmpSession<null>> => {
      const { session, transport } = setup({ outputPauseBytes: 1024 });
      transport.handlers.data(Buffer.from(`${']'.repeat(10_000)} [${'1,'.repeat(100_000)}`));
      transport.handlers.gone();
      return new WeakRef(session);
    })();
    // A busy machine may run the session's last queued turn late: give it up to about 2 s.
    for (let i = 0; i < 200 && ref.deref() !== undefined; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      gc();
    }
    assert.equal(ref.deref(), undefined, 'something still holds the closed session');
  });
});
