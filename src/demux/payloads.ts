import { type DemuxRole, MAX_NAME_LENGTH, MAX_REASON_LENGTH } from './codes.js';

/**
 * The payloads of the control frames (docs/demux-protocol.md, "Frame
 * types"): big-endian integers, names in ASCII, reasons in UTF-8.
 * Decoders return undefined for a payload too short for its type; extra
 * bytes at the end are ignored, so later versions may append fields.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface Hello {
  readonly minVersion: number;
  readonly maxVersion: number;
  readonly role: DemuxRole;
  /** The largest payload this side receives. */
  readonly maxPayload: number;
  /** How many channels this side keeps at once. */
  readonly maxChannels: number;
}

export const HELLO_SIZE = 12;

export function encodeHello(hello: Hello): Uint8Array {
  const bytes = new Uint8Array(HELLO_SIZE);
  const view = new DataView(bytes.buffer);
  bytes[0] = hello.minVersion;
  bytes[1] = hello.maxVersion;
  bytes[2] = hello.role === 'primary' ? 0 : 1;
  view.setUint32(4, hello.maxPayload);
  view.setUint32(8, hello.maxChannels);
  return bytes;
}

export function decodeHello(payload: Uint8Array): Hello | undefined {
  if (payload.length < HELLO_SIZE || payload[2]! > 1) return undefined;
  const view = viewOf(payload);
  return {
    minVersion: payload[0]!,
    maxVersion: payload[1]!,
    role: payload[2] === 0 ? 'primary' : 'secondary',
    maxPayload: view.getUint32(4),
    maxChannels: view.getUint32(8),
  };
}

/** What an OPEN asks for: a service by name, or a port number. */
export type DemuxTarget = { readonly name: string } | { readonly port: number };

export function encodeOpen(window: number, target: DemuxTarget): Uint8Array {
  const name = 'name' in target ? encoder.encode(target.name) : undefined;
  const bytes = new Uint8Array(4 + (name?.length ?? 4));
  const view = new DataView(bytes.buffer);
  view.setUint32(0, window);
  if (name !== undefined) bytes.set(name, 4);
  else view.setUint32(4, (target as { port: number }).port);
  return bytes;
}

export function decodeOpen(payload: Uint8Array, byPort: boolean): { window: number; target: DemuxTarget } | undefined {
  if (payload.length < (byPort ? 8 : 4)) return undefined;
  const view = viewOf(payload);
  const window = view.getUint32(0);
  if (byPort) return { window, target: { port: view.getUint32(4) } };
  // One byte more than a name may have is enough for isServiceName to refuse a long one; other bytes decode as Latin-1, which it refuses too.
  return { window, target: { name: String.fromCharCode(...payload.subarray(4, 4 + MAX_NAME_LENGTH + 1)) } };
}

export function encodeU32(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value);
  return bytes;
}

export function decodeU32(payload: Uint8Array): number | undefined {
  return payload.length < 4 ? undefined : viewOf(payload).getUint32(0);
}

/** A code and a reason: REFUSE, CLOSE and ERROR. */
export function encodeReason(code: number, reason: string): Uint8Array {
  let text = encoder.encode(reason);
  if (text.length > MAX_REASON_LENGTH) {
    // Cut on a character boundary: UTF-8 continuation bytes are 10xxxxxx.
    let end = MAX_REASON_LENGTH;
    while (end > 0 && (text[end]! & 0xc0) === 0x80) end--;
    text = text.subarray(0, end);
  }
  const bytes = new Uint8Array(2 + text.length);
  new DataView(bytes.buffer).setUint16(0, code);
  bytes.set(text, 2);
  return bytes;
}

export function decodeReason(payload: Uint8Array): { code: number; reason: string } | undefined {
  if (payload.length < 2) return undefined;
  return { code: viewOf(payload).getUint16(0), reason: decoder.decode(payload.subarray(2, 2 + MAX_REASON_LENGTH)) };
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
}
