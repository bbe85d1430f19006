import type { Duplex } from 'node:stream';
import type { DemuxChannel, DemuxChannelHandler, DemuxCloseInfo } from '../demux/channel.js';
import { DemuxCode } from '../demux/codes.js';

/**
 * Joins a demux channel and a Node stream (a unix or TCP connection, a
 * local socket at the guest end), both ways, each with its own
 * backpressure: the stream's reads pause while the channel's queue is
 * above its mark, and the channel's credit goes back to the peer only
 * once the stream took the bytes. A stream that stops reading thus holds
 * one window of its channel, and no other channel notices.
 *
 * Half-closes cross over: the stream's end is the channel's SHUTDOWN and
 * the peer's SHUTDOWN ends the stream's writing side (the stream should be
 * opened with allowHalfOpen). A stream that fails or closes before its
 * end closes the channel with TARGET_FAILED; the channel's end destroys
 * the stream, or ends it when the channel closed in order.
 *
 * Returns the channel's handler: give it to `open()` or `accept()`, then
 * call `attach(channel)`.
 */
export function bridgeStream(stream: Duplex, closed?: (info: DemuxCloseInfo) => void): DemuxChannelHandler & { attach(channel: DemuxChannel): void } {
  let channel: DemuxChannel | undefined;
  /** Bytes written to the stream whose credit waits for its drain. */
  let owed = 0;
  let gone = false;
  stream.on('drain', () => {
    const count = owed;
    owed = 0;
    channel?.consumed(count);
  });
  stream.on('data', (chunk: Buffer) => {
    if (channel !== undefined && !channel.write(chunk)) stream.pause();
  });
  stream.on('end', () => channel?.end());
  stream.on('error', () => {});
  /** The stream closed after its end while the peer may still send: what it sent still goes out, what comes for it is refused. */
  let closedAfterEnd = false;
  stream.on('close', () => {
    if (channel === undefined || gone) return;
    // Closed before its end: it failed, and the channel with it.
    if (!stream.readableEnded) channel.close(DemuxCode.TARGET_FAILED, 'the connection closed');
    // Closed after its end, which was the channel's end(): the bytes queued before it still go out, then SHUTDOWN.
    else if (!stream.writableFinished) closedAfterEnd = true;
  });
  stream.pause();
  return {
    attach(opened) {
      channel = opened;
      if (!gone) stream.resume();
    },
    data(bytes) {
      if (closedAfterEnd) {
        channel?.close(DemuxCode.TARGET_FAILED, 'the connection closed');
        return;
      }
      const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
      if (stream.write(buffer)) channel?.consumed(bytes.length);
      else owed += bytes.length;
    },
    end() {
      stream.end();
    },
    writable() {
      stream.resume();
    },
    closed(info) {
      gone = true;
      if (info.code === DemuxCode.OK && !info.refused) stream.end();
      else stream.destroy();
      closed?.(info);
    },
  };
}
