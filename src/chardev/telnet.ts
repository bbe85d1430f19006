/** Telnet command bytes QEMU's socket chardev knows (RFC 854, RFC 885). */
const IAC = 0xff;
const IAC_BREAK = 0xf3;
const IAC_IP = 0xf4;
const IAC_NOP = 0xf1;
const IAC_EOR = 0xef;
const IAC_SB = 0xfa;
const IAC_SE = 0xf0;

/**
 * What a telnet server sends when a client connects (chardev/char-socket.c
 * tcp_chr_telnet_init): IAC WILL ECHO, IAC WILL SUPPRESS-GO-AHEAD,
 * IAC WILL BINARY, IAC DO BINARY — character mode, the server echoes.
 */
export const TELNET_INIT = Buffer.from([0xff, 0xfb, 0x01, 0xff, 0xfb, 0x03, 0xff, 0xfb, 0x00, 0xff, 0xfd, 0x00]);

/**
 * The tn3270 greeting: DO EOR, WILL EOR, DO BINARY, WILL BINARY,
 * DO TERMINAL-TYPE, then a subnegotiation asking for the terminal type.
 */
export const TN3270_INIT = Buffer.from([0xff, 0xfd, 0x19, 0xff, 0xfb, 0x19, 0xff, 0xfd, 0x00, 0xff, 0xfb, 0x00, 0xff, 0xfd, 0x18, 0xff, 0xfa, 0x18, 0x01, 0xff, 0xf0]);

/**
 * Strips telnet commands from a client's input, as QEMU's
 * tcp_chr_process_IAC_bytes does, state kept across reads:
 * IAC IAC is a literal 0xFF, IAC BREAK is a serial break, and every other
 * command is taken as three bytes long (QEMU answers no negotiation, it
 * only skips it). With tn3270, IAC EOR/SB/SE pass through as two bytes
 * (they delimit 3270 records) and IAC IP/NOP are two-byte commands.
 */
export class TelnetInputFilter {
  /** QEMU's do_telnetopt: 1 = data, 2 = after IAC, 3 = after a command byte. */
  #state = 1;

  constructor(
    private readonly tn3270: boolean,
    private readonly onBreak: () => void,
  ) {}

  filter(input: Buffer): Buffer {
    const out = Buffer.allocUnsafe(input.length * 2);
    let j = 0;
    for (const byte of input) {
      if (this.#state === 1) {
        if (byte === IAC) this.#state = 2;
        else out[j++] = byte;
        continue;
      }
      if (this.#state === 2 && byte === IAC) {
        out[j++] = IAC;
        this.#state = 1;
        continue;
      }
      if (this.#state === 2 && byte === IAC_BREAK) {
        this.onBreak();
        this.#state++;
      } else if (this.#state === 2 && this.tn3270 && (byte === IAC_EOR || byte === IAC_SB || byte === IAC_SE)) {
        out[j++] = IAC;
        out[j++] = byte;
        this.#state++;
      } else if (this.#state === 2 && this.tn3270 && (byte === IAC_IP || byte === IAC_NOP)) {
        this.#state++;
      }
      this.#state++;
      if (this.#state >= 4) this.#state = 1;
    }
    return out.subarray(0, j);
  }
}
