/**
 * The demux protocol's numbers (docs/demux-protocol.md): frame types,
 * error codes and limits. Both ends share this table; a C peer copies it.
 */

/** Frame types (header byte 2). */
export const FrameType = {
  HELLO: 0x01,
  OPEN: 0x02,
  ACCEPT: 0x03,
  REFUSE: 0x04,
  DATA: 0x05,
  CREDIT: 0x06,
  SHUTDOWN: 0x07,
  CLOSE: 0x08,
  ERROR: 0x09,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/** Flag bits (header byte 3). */
export const FrameFlag = {
  /** HELLO: this HELLO answers the peer's. */
  ACK: 0x01,
  /** OPEN: the target is a port number, not a service name. */
  BY_PORT: 0x01,
} as const;

/** Error codes of REFUSE, CLOSE and ERROR frames. */
export const DemuxCode = {
  OK: 0,
  UNKNOWN_SERVICE: 1,
  REFUSED: 2,
  TOO_MANY_CHANNELS: 3,
  BAD_NAME: 4,
  CHANNEL_IN_USE: 5,
  FLOW_CONTROL: 6,
  FRAME_TOO_LARGE: 7,
  BAD_FRAME: 8,
  UNKNOWN_CHANNEL: 9,
  UNKNOWN_TYPE: 10,
  GARBAGE: 11,
  VERSION: 12,
  ROLE: 13,
  CHECKSUM: 14,
  NOT_READY: 15,
  PEER_RESTART: 16,
  TARGET_FAILED: 17,
  SHUTTING_DOWN: 18,
  TRANSPORT_LOST: 19,
} as const;
export type DemuxCode = (typeof DemuxCode)[keyof typeof DemuxCode];

/** The name of a code, for messages and QMP (`UNKNOWN_SERVICE`); numbers past the table stay numbers. */
export function codeName(code: number): string {
  for (const [name, value] of Object.entries(DemuxCode)) if (value === code) return name;
  return `CODE_${code}`;
}

/** Magic bytes that start every frame. */
export const MAGIC_0 = 0xcd;
export const MAGIC_1 = 0xd3;
/** Header: magic, type, flags, channel, length, payload CRC, header CRC. */
export const HEADER_SIZE = 20;

/** The protocol versions this implementation speaks. */
export const VERSION_MIN = 1;
export const VERSION_MAX = 1;

/** A side's role: the primary opens even channel ids, the secondary odd ones. */
export type DemuxRole = 'primary' | 'secondary';

/** Bounds of HELLO's max_payload: every side takes at least MIN, none may ask for more than MAX. */
export const MIN_PAYLOAD_LIMIT = 1024;
export const MAX_PAYLOAD_LIMIT = 16 << 20;
/** Service names: 1 to 64 bytes of printable ASCII without space. */
export const MAX_NAME_LENGTH = 64;
/** Reasons in REFUSE, CLOSE and ERROR: at most this many UTF-8 bytes are sent; longer ones are cut. */
export const MAX_REASON_LENGTH = 256;
/** The most credit a receiver may have granted and not seen used, per channel. */
export const MAX_WINDOW = 0x7fffffff;

export const DEFAULT_MAX_PAYLOAD = 64 << 10;
export const DEFAULT_MAX_CHANNELS = 1024;
export const DEFAULT_WINDOW = 1 << 20;

/** Whether `name` is a well-formed service name. */
export function isServiceName(name: string): boolean {
  return name.length >= 1 && name.length <= MAX_NAME_LENGTH && /^[\x21-\x7e]+$/.test(name);
}
