/*
 * Sequential QMP round trips over a unix socket: send one request, wait for
 * its reply line, repeat for N seconds, print the rate. Written in C so that
 * the client adds as little as possible to the latency being measured; the
 * same binary drives chardevd and QEMU.
 *
 * usage: qmp-sequential SOCKET SECONDS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static char buf[1 << 16];
static size_t have;

/* Reads until one CRLF-terminated line is buffered, then drops it. */
static int read_line(int fd)
{
    for (;;) {
        char *eol = memchr(buf, '\n', have);
        if (eol) {
            size_t used = (size_t)(eol - buf) + 1;
            memmove(buf, buf + used, have - used);
            have -= used;
            return 0;
        }
        ssize_t n = read(fd, buf + have, sizeof(buf) - have);
        if (n <= 0) {
            return -1;
        }
        have += (size_t)n;
    }
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s SOCKET SECONDS\n", argv[0]);
        return 2;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    strncpy(addr.sun_path, argv[1], sizeof(addr.sun_path) - 1);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        perror("connect");
        return 1;
    }
    static const char negotiate[] = "{\"execute\":\"qmp_capabilities\"}";
    static const char request[] = "{\"execute\":\"query-version\"}";
    if (read_line(fd) < 0 || write(fd, negotiate, sizeof(negotiate) - 1) < 0 || read_line(fd) < 0) {
        fprintf(stderr, "negotiation failed\n");
        return 1;
    }
    double seconds = atof(argv[2]);
    double start = now();
    double end = start + seconds;
    long done = 0;
    while (now() < end) {
        if (write(fd, request, sizeof(request) - 1) < 0 || read_line(fd) < 0) {
            fprintf(stderr, "connection lost\n");
            return 1;
        }
        done++;
    }
    printf("%.0f\n", done / (now() - start));
    return 0;
}
