import { suite, test } from 'node:test';
import fc from 'fast-check';
import { QMP_SESSION_DEFAULTS, type QmpSessionLimits } from '../../src/qmp/session.js';
import { JSON_PARSER_DEFAULTS, type JsonStreamParserLimits } from '../../src/qobject/json-stream-parser.js';
import { checkProperty } from '../support/fuzz-run.js';
import { FuzzClient, FuzzDaemon } from './qmp-harness.js';
import { inputChunks, type QmpInput, qmpInput, syncRequest } from './qmp-input.js';
import { checkReply } from './qmp-reply.js';

/**
 * The QMP stream in process: hostile input, cut into chunks, through a
 * real session, dispatcher and command handlers. Small parser limits, so
 * that inputs at and past every limit are cheap, and a small output bound,
 * so that flow control is exercised.
 */

const PARSER: JsonStreamParserLimits = { ...JSON_PARSER_DEFAULTS, maxMessageBytes: 16 << 10, maxTokens: 1024, maxNesting: 64 };
const LIMITS: QmpSessionLimits = { ...QMP_SESSION_DEFAULTS, outputPauseBytes: 16 << 10, parser: PARSER };
/** Input whose chunks make many replies: tokens past the count limit (one error each), or many requests at once. */
const floodInput: fc.Arbitrary<QmpInput> = fc.record({
  negotiate: fc.constant('{"execute": "qmp_capabilities"}'),
  messages: fc.array(
    fc.oneof(
      fc.integer({ min: PARSER.maxTokens / 2, max: PARSER.maxTokens * 2 }).map((n) => `[${'1,'.repeat(n)}1]`),
      fc.integer({ min: 10, max: 1000 }).map((n) => '{"execute": "query-version"}'.repeat(n)),
    ),
    { minLength: 1, maxLength: 3 },
  ),
  cuts: fc.array(fc.nat(), { maxLength: 3 }),
});

/** Growth of the resident set over a whole run that counts as a leak: generous, the run allocates freely. */
const RSS_GROWTH_BOUND = 256 << 20;

/** What a desc may quote: the input read as bytes and as UTF-8. */
function inputText(chunks: readonly Buffer[]): string {
  const bytes = Buffer.concat(chunks);
  return `${bytes.toString('latin1')}\n${bytes.toString('utf8')}`;
}

/**
 * Feeds one input, checks the session's bounds after each chunk and every
 * reply, and that it still answers. `chunkBound`: the output of one chunk
 * may exceed the pause bound by one reply at most (the session pauses
 * parsing, not only reading, while the client is behind).
 */
async function feed(fuzz: FuzzDaemon, input: QmpInput, chunkBound = false): Promise<void> {
  await fuzz.reset();
  const client = new FuzzClient();
  const session = fuzz.open(client, LIMITS);
  try {
    const chunks = inputChunks(input);
    for (const chunk of [...chunks, syncRequest('fuzz-sync')]) {
      await client.send(chunk);
      // The session stops reading once the client leaves more than the pause bound unread, and never holds more than the maximum.
      if (client.unread > LIMITS.outputPauseBytes && client.reading) throw new Error(`${client.unread} bytes unread and the session still reads`);
      if (client.unread > LIMITS.maxOutputBytes) throw new Error(`${client.unread} bytes unread, over the session's maximum`);
      if (chunkBound && client.unread > LIMITS.outputPauseBytes + client.longestUnreadLine()) {
        throw new Error(`one chunk of ${chunk.length} bytes left ${client.unread} bytes unread; the bound is ${LIMITS.outputPauseBytes} and one reply`);
      }
    }
    await client.until(() => client.output.includes('"id": "fuzz-sync"'), 'the reply to query-version after the input');
    const text = inputText(chunks);
    const lines = client.lines();
    if (lines[0]?.startsWith('{"QMP": ') !== true) throw new Error('no greeting first');
    const sync = lines.map((line) => checkReply(line, text)).at(-1)!;
    if (sync['id'] !== 'fuzz-sync') throw new Error(`the last reply is not the sync's: ${lines.at(-1)?.slice(0, 200)}`);
    const internal = fuzz.log.find((line) => line.includes('internal error'));
    if (internal !== undefined) throw new Error(`the daemon logged: ${internal.slice(0, 400)}`);
  } finally {
    session.close();
    fuzz.log.length = 0;
  }
}

suite('fuzz: the QMP stream in process', () => {
  test('every reply is a QMP message without internals, the session stays within its bounds and still answers', async (t) => {
    const fuzz = new FuzzDaemon();
    const before = process.memoryUsage().rss;
    await checkProperty(
      t,
      fc.asyncProperty(qmpInput(PARSER, 64 << 10), (input) => feed(fuzz, input)),
      200,
    );
    await fuzz.daemon.chardevs.closeAll();
    const growth = process.memoryUsage().rss - before;
    t.diagnostic(`resident set grew by ${(growth / 2 ** 20).toFixed(1)} MiB`);
    if (growth > RSS_GROWTH_BOUND) throw new Error(`the resident set grew by ${growth} bytes over the run`);
  });

  test('the output of one chunk stays within the pause bound and one reply, floods included', async (t) => {
    const fuzz = new FuzzDaemon();
    await checkProperty(
      t,
      fc.asyncProperty(floodInput, (input) => feed(fuzz, input, true)),
      20,
    );
    await fuzz.daemon.chardevs.closeAll();
  });
});
