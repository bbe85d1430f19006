import { connectWithRetry } from './connect.js';

/** How long a reply may take on a busy machine. */
const WAIT_MS = 30_000;

/** One QMP command on a fresh connection; skips events, returns the reply's `return`. */
export async function qmpOnce(path: string, command: string): Promise<unknown> {
  const socket = await connectWithRetry(path);
  let buffer = '';
  const replies: unknown[] = [];
  let wake: (() => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (line === '') continue;
      const message = JSON.parse(line) as Record<string, unknown>;
      if ('return' in message || 'error' in message) replies.push(message);
      wake?.();
    }
  });
  const next = async (count: number): Promise<void> => {
    const deadline = Date.now() + WAIT_MS;
    while (replies.length < count) {
      if (Date.now() > deadline) throw new Error(`no reply to ${command}`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 50);
      });
    }
  };
  socket.write('{"execute":"qmp_capabilities"}');
  await next(1);
  socket.write(`{"execute":"${command}"}`);
  await next(2);
  socket.destroy();
  const reply = replies[1] as { return?: unknown; error?: unknown };
  if (reply.error !== undefined) throw new Error(JSON.stringify(reply.error));
  return reply.return;
}
