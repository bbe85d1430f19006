/*
 * The guest end of chardevd's demux protocol (docs/demux-protocol.md), in C,
 * for the guest end-to-end test: the test's guest is a busybox initramfs
 * where Node cannot run, so this client is compiled static on the host
 * (gcc -static) and put into the initramfs. Written from the protocol
 * document alone.
 *
 * usage: demux-guest-client PORT BYTES SERVE NAME...
 *   PORT   the virtio-serial port (/dev/vport0p1), or unix:PATH on a host
 *   BYTES  bytes each channel sends (below the host's window: no credit wait)
 *   SERVE  how many channels the host opens to the guest service "gecho"
 *          to serve (echoed back) before exiting
 *   NAME   one channel per name, opened at once; what comes back must be
 *          what was sent (the host services echo)
 * Prints "DEMUXC CHANNEL <name> OK <n>" or "... FAIL ...", then "DEMUXC DONE <failures>".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

enum { HELLO = 1, OPEN, ACCEPT, REFUSE, DATA, CREDIT, SHUTDOWN, CLOSE, ERROR };
#define HDR 20
#define MAXPAY 65536
#define WINDOW (1u << 20)
#define MAXCH 64

static int fd;
static uint32_t table[256];

static uint32_t crc32(const uint8_t *p, size_t n) {
  uint32_t c = 0xffffffffu;
  while (n--) c = table[(c ^ *p++) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

static void put32(uint8_t *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }
static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }

static void write_all(const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) { perror("write"); exit(3); }
    p += w; n -= (size_t)w;
  }
}

static void send_frame(int type, int flags, uint32_t ch, const uint8_t *pay, uint32_t len) {
  uint8_t h[HDR];
  h[0] = 0xcd; h[1] = 0xd3; h[2] = (uint8_t)type; h[3] = (uint8_t)flags;
  put32(h + 4, ch); put32(h + 8, len); put32(h + 12, len ? crc32(pay, len) : 0);
  put32(h + 16, crc32(h, 16));
  write_all(h, HDR);
  if (len) write_all(pay, len);
}

static void send_hello(int ack) {
  uint8_t p[12] = {1, 1, 1, 0};
  put32(p + 4, MAXPAY); put32(p + 8, MAXCH);
  send_frame(HELLO, ack, 0, p, 12);
}

static void send_code(int type, uint32_t ch, int code) {
  uint8_t p[2] = {(uint8_t)(code >> 8), (uint8_t)code};
  send_frame(type, 0, ch, p, 2);
}

/* Reading: a buffer, scanned for the magic and checked by both CRCs. */
static uint8_t buf[2 * (HDR + MAXPAY)];
static size_t have;

/* The next valid frame: its header fields and a pointer to its payload (valid until the next call). */
static int next_frame(int *type, int *flags, uint32_t *ch, uint8_t **pay, uint32_t *len) {
  for (;;) {
    size_t at = 0;
    while (at + HDR <= have) {
      uint8_t *h = buf + at;
      if (h[0] != 0xcd || h[1] != 0xd3 || crc32(h, 16) != get32(h + 16)) { at++; continue; }
      uint32_t n = get32(h + 8);
      if (n > MAXPAY) { fprintf(stderr, "oversize frame\n"); exit(4); }
      if (at + HDR + n > have) break;
      if (n && crc32(h + HDR, n) != get32(h + 12)) { at += HDR + n; continue; }
      *type = h[2]; *flags = h[3]; *ch = get32(h + 4); *len = n;
      static uint8_t out[MAXPAY];
      memcpy(out, h + HDR, n);
      *pay = out;
      at += HDR + n;
      memmove(buf, buf + at, have - at);
      have -= at;
      return 1;
    }
    memmove(buf, buf + at, have - at);
    have -= at;
    ssize_t r = read(fd, buf + have, sizeof buf - have);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EAGAIN) { usleep(10000); continue; }
    if (r <= 0) return 0;
    have += (size_t)r;
  }
}

static uint8_t pattern(int i, uint32_t j) { return (uint8_t)(i * 131 + j * 7 + (j >> 8) * 3); }

struct chan {
  const char *name;
  uint32_t id;
  uint32_t got;
  int fail, shut_in, shut_out, closed, accepted;
  int served; /* opened by the host */
};

static struct chan ch[MAXCH];
static int nch;

static struct chan *find(uint32_t id) {
  for (int i = 0; i < nch; i++) if (ch[i].id == id && !ch[i].closed) return &ch[i];
  return NULL;
}

static void shut_and_maybe_close(struct chan *c) {
  if (!c->shut_out) { send_frame(SHUTDOWN, 0, c->id, NULL, 0); c->shut_out = 1; }
}

int main(int argc, char **argv) {
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = n;
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    table[n] = c;
  }
  if (argc < 4) { fprintf(stderr, "usage: %s PORT BYTES SERVE NAME...\n", argv[0]); return 2; }
  if (strncmp(argv[1], "unix:", 5) == 0) {
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strncpy(a.sun_path, argv[1] + 5, sizeof a.sun_path - 1);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) { perror("connect"); return 2; }
  } else if ((fd = open(argv[1], O_RDWR)) < 0) { perror("open"); return 2; }
  uint32_t bytes = (uint32_t)atoi(argv[2]);
  int serve = atoi(argv[3]);
  int served = 0;

  send_hello(0);
  int type, flags, ready = 0;
  uint32_t id, len;
  uint8_t *pay;
  while (!ready) {
    if (!next_frame(&type, &flags, &id, &pay, &len)) { fprintf(stderr, "eof before HELLO\n"); return 5; }
    if (type != HELLO) continue;
    if (!(flags & 1)) send_hello(1);
    ready = 1;
  }
  for (int i = 4; i < argc && nch < MAXCH; i++) {
    struct chan *c = &ch[nch];
    c->name = argv[i];
    c->id = 2 * (uint32_t)nch + 1;
    nch++;
    uint8_t p[4 + 64];
    size_t n = strlen(c->name);
    put32(p, WINDOW);
    memcpy(p + 4, c->name, n);
    send_frame(OPEN, 0, c->id, p, 4 + (uint32_t)n);
  }
  int opened = nch, done = 0, failures = 0;
  static uint8_t data[MAXPAY];
  while (done < opened || served < serve) {
    if (!next_frame(&type, &flags, &id, &pay, &len)) { fprintf(stderr, "eof\n"); return 6; }
    struct chan *c = find(id);
    switch (type) {
    case HELLO:
      if (!(flags & 1)) send_hello(1);
      break;
    case OPEN: {
      /* A host-initiated channel: only "gecho" is served, by echoing. */
      if (len == 4 + 5 && memcmp(pay + 4, "gecho", 5) == 0 && nch < MAXCH) {
        struct chan *s = &ch[nch++];
        memset(s, 0, sizeof *s);
        s->name = "gecho"; s->id = id; s->served = 1; s->accepted = 1;
        uint8_t p[4];
        put32(p, WINDOW);
        send_frame(ACCEPT, 0, id, p, 4);
      } else {
        uint8_t p[2 + 7] = {0, 1, 'u', 'n', 'k', 'n', 'o', 'w', 'n'};
        send_frame(REFUSE, 0, id, p, sizeof p);
      }
      break;
    }
    case ACCEPT:
      if (!c) break;
      c->accepted = 1;
      for (uint32_t off = 0; off < bytes; off += 16384) {
        uint32_t n = bytes - off < 16384 ? bytes - off : 16384;
        for (uint32_t j = 0; j < n; j++) data[j] = pattern(c->id, off + j);
        send_frame(DATA, 0, c->id, data, n);
      }
      shut_and_maybe_close(c);
      break;
    case REFUSE:
      if (!c) break;
      printf("DEMUXC CHANNEL %s REFUSED %u\n", c->name, len >= 2 ? (unsigned)(pay[0] << 8 | pay[1]) : 0u);
      c->closed = 1; failures++; done++;
      break;
    case DATA:
      if (!c) break;
      if (c->served) { send_frame(DATA, 0, c->id, pay, len); break; }
      for (uint32_t j = 0; j < len; j++) if (pay[j] != pattern(c->id, c->got + j)) c->fail = 1;
      c->got += len;
      break;
    case SHUTDOWN:
      if (!c) break;
      c->shut_in = 1;
      shut_and_maybe_close(c);
      send_code(CLOSE, c->id, 0);
      break;
    case CLOSE:
      if (!c) break;
      c->closed = 1;
      if (c->served) { served++; printf("DEMUXC SERVED %s\n", c->name); break; }
      if (c->fail || c->got != bytes) failures++;
      printf("DEMUXC CHANNEL %s %s %u\n", c->name, c->fail || c->got != bytes ? "FAIL" : "OK", c->got);
      done++;
      break;
    default: /* CREDIT, ERROR: nothing to do within one window */
      break;
    }
  }
  printf("DEMUXC DONE %d\n", failures);
  return failures ? 1 : 0;
}
