/*
 * Descriptor passing on unix stream sockets (SCM_RIGHTS), which Node's own
 * sockets cannot do: libuv reads with read(), and the kernel closes the
 * descriptors a message carried when the reader gives no control buffer.
 *
 * A watcher polls a duplicate of a connected socket's descriptor (the
 * original stays Node's, for writing; libuv allows one poll handle per
 * descriptor number, so the duplicate gets its own) and reads it with
 * recvmsg() into a buffer the caller keeps, returning how many bytes came
 * and the descriptors that came with them. sendFds() is the other
 * direction, for clients and tests. dupFlags() and getFlags() serve the
 * fd sets (/dev/fdset/N), which hand out duplicates of descriptors whose
 * access mode matches an open's flags. trimHeap() gives the C allocator's
 * free memory back to the system, reduceHeap() V8's. mapLatin1() and
 * mapBytes() map a file instead of reading it (native/mapped-file.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <node_api.h>
#include <uv.h>
#include "heap-reduce.h"
#include "mapped-file.h"
#include "napi-errors.h"

/* The kernel's limit of descriptors in one message (SCM_MAX_FD). */
#define MAX_FDS 253

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_async_context async;
  int fd;
  int polling;
  int closed;
  /* The Watcher is freed once both have happened: libuv let go of the poll handle, and JS of the external. */
  int handle_released;
  int finalized;
} Watcher;

napi_value throw_errno(napi_env env, const char *what, int err) {
  char message[160];
  snprintf(message, sizeof message, "%s: %s", what, strerror(err));
  napi_value code, msg, error, number;
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  napi_create_string_utf8(env, "ERRNO", NAPI_AUTO_LENGTH, &code);
  napi_create_error(env, code, msg, &error);
  napi_create_int32(env, err, &number);
  napi_set_named_property(env, error, "errno", number);
  napi_throw(env, error);
  return NULL;
}

static void on_poll_closed(uv_handle_t *handle) {
  Watcher *w = handle->data;
  w->handle_released = 1;
  if (w->finalized) free(w);
}

/* Stops polling and closes the duplicate; the memory stays until the external is finalized too. */
static void watcher_close(Watcher *w) {
  if (w->closed) return;
  w->closed = 1;
  if (w->polling) uv_poll_stop(&w->poll);
  w->polling = 0;
  close(w->fd);
  napi_delete_reference(w->env, w->callback);
  napi_async_destroy(w->env, w->async);
  w->poll.data = w;
  uv_close((uv_handle_t *)&w->poll, on_poll_closed);
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  (void)status;
  (void)events;
  Watcher *w = handle->data;
  napi_env env = w->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value callback, global, result;
  if (napi_get_reference_value(env, w->callback, &callback) == napi_ok && napi_get_global(env, &global) == napi_ok) {
    /* make_callback runs the microtasks and ticks the callback queues, as any I/O callback does. */
    if (napi_make_callback(env, w->async, global, callback, 0, NULL, &result) == napi_pending_exception) {
      napi_value exception;
      napi_get_and_clear_last_exception(env, &exception);
      napi_fatal_exception(env, exception);
    }
  }
  napi_close_handle_scope(env, scope);
}

static void watcher_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  Watcher *w = data;
  /* A watcher nobody closed: release it now rather than leak the duplicate. */
  watcher_close(w);
  w->finalized = 1;
  if (w->handle_released) free(w);
}

static Watcher *get_watcher(napi_env env, napi_value value) {
  void *data = NULL;
  if (napi_get_value_external(env, value, &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, "FDPASS_ARG", "expected a watcher");
    return NULL;
  }
  return data;
}

/* watch(fd, onReadable) -> watcher: polls a duplicate of fd; not polling until start(). */
static napi_value watch(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    napi_throw_type_error(env, "FDPASS_ARG", "watch(fd, callback)");
    return NULL;
  }
  int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0) return throw_errno(env, "dup", errno);
  Watcher *w = calloc(1, sizeof *w);
  if (w == NULL) {
    close(dup_fd);
    return throw_errno(env, "watch", ENOMEM);
  }
  w->env = env;
  w->fd = dup_fd;
  uv_loop_t *loop;
  napi_value resource_name;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init(loop, &w->poll, dup_fd) != 0) {
    close(dup_fd);
    free(w);
    napi_throw_error(env, "FDPASS_POLL", "cannot poll the socket");
    return NULL;
  }
  w->poll.data = w;
  CHECK(napi_create_reference(env, argv[1], 1, &w->callback));
  CHECK(napi_create_string_utf8(env, "fdpass.watch", NAPI_AUTO_LENGTH, &resource_name));
  CHECK(napi_async_init(env, NULL, resource_name, &w->async));
  napi_value external;
  CHECK(napi_create_external(env, w, watcher_finalize, NULL, &external));
  return external;
}

static napi_value set_polling(napi_env env, napi_callback_info info, int on) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Watcher *w = get_watcher(env, argv[0]);
  if (w == NULL || w->closed || w->polling == on) return NULL;
  if (on) {
    int err = uv_poll_start(&w->poll, UV_READABLE | UV_DISCONNECT, on_readable);
    if (err != 0) {
      napi_throw_error(env, "FDPASS_POLL", uv_strerror(err));
      return NULL;
    }
  } else {
    uv_poll_stop(&w->poll);
  }
  w->polling = on;
  return NULL;
}

static napi_value start(napi_env env, napi_callback_info info) {
  return set_polling(env, info, 1);
}

static napi_value stop(napi_env env, napi_callback_info info) {
  return set_polling(env, info, 0);
}

static napi_value close_watcher(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Watcher *w = get_watcher(env, argv[0]);
  if (w != NULL) watcher_close(w);
  return NULL;
}

/*
 * receive(watcher, buffer, maxFds) -> null when nothing is waiting, else
 * { length: bytes read into buffer (0 at end of stream), fds: number[], truncated: boolean }.
 * Descriptors beyond maxFds are closed by the kernel (MSG_CTRUNC: truncated).
 */
static napi_value receive(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int32_t max_fds;
  void *buffer;
  size_t capacity;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Watcher *w = get_watcher(env, argv[0]);
  if (w == NULL) return NULL;
  if (w->closed) return throw_errno(env, "recvmsg", EBADF);
  if (argc < 3 || napi_get_buffer_info(env, argv[1], &buffer, &capacity) != napi_ok || capacity == 0) {
    napi_throw_type_error(env, "FDPASS_ARG", "receive(watcher, non-empty Buffer, maxFds)");
    return NULL;
  }
  if (napi_get_value_int32(env, argv[2], &max_fds) != napi_ok || max_fds < 0 || max_fds > MAX_FDS) {
    napi_throw_range_error(env, "FDPASS_ARG", "maxFds out of range");
    return NULL;
  }
  union {
    char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
    struct cmsghdr align;
  } control;
  struct iovec iov = {buffer, capacity};
  struct msghdr msg = {0};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = max_fds > 0 ? control.buf : NULL;
  msg.msg_controllen = max_fds > 0 ? CMSG_SPACE(sizeof(int) * (size_t)max_fds) : 0;
  ssize_t n;
  do {
    n = recvmsg(w->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      napi_value null_value;
      CHECK(napi_get_null(env, &null_value));
      return null_value;
    }
    return throw_errno(env, "recvmsg", errno);
  }
  napi_value result, length, fds, truncated;
  CHECK(napi_create_object(env, &result));
  CHECK(napi_create_int64(env, n, &length));
  CHECK(napi_create_array(env, &fds));
  uint32_t count = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t n_fds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    int *p = (int *)CMSG_DATA(c);
    for (size_t i = 0; i < n_fds; i++) {
      int fd;
      memcpy(&fd, p + i, sizeof fd);
      napi_value number;
      CHECK(napi_create_int32(env, fd, &number));
      CHECK(napi_set_element(env, fds, count++, number));
    }
  }
  CHECK(napi_get_boolean(env, (msg.msg_flags & MSG_CTRUNC) != 0, &truncated));
  CHECK(napi_set_named_property(env, result, "length", length));
  CHECK(napi_set_named_property(env, result, "fds", fds));
  CHECK(napi_set_named_property(env, result, "truncated", truncated));
  return result;
}

/* sendFds(fd, data: Buffer, fds: number[]) -> bytes sent; one sendmsg, blocking until it is taken. */
static napi_value send_fds(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int32_t fd;
  void *data;
  size_t length;
  uint32_t n_fds;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_buffer_info(env, argv[1], &data, &length) != napi_ok ||
      napi_get_array_length(env, argv[2], &n_fds) != napi_ok || length == 0 || n_fds > MAX_FDS) {
    napi_throw_type_error(env, "FDPASS_ARG", "sendFds(fd, non-empty Buffer, up to 253 descriptors)");
    return NULL;
  }
  union {
    char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof control);
  struct iovec iov = {data, length};
  struct msghdr msg = {0};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (n_fds > 0) {
    msg.msg_control = control.buf;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
    for (uint32_t i = 0; i < n_fds; i++) {
      napi_value element;
      int32_t passed;
      CHECK(napi_get_element(env, argv[2], i, &element));
      if (napi_get_value_int32(env, element, &passed) != napi_ok) {
        napi_throw_type_error(env, "FDPASS_ARG", "descriptors must be numbers");
        return NULL;
      }
      memcpy((int *)CMSG_DATA(c) + i, &passed, sizeof passed);
    }
  }
  ssize_t n;
  for (;;) {
    n = sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n >= 0 || errno != EINTR) break;
  }
  if (n < 0) return throw_errno(env, "sendmsg", errno);
  napi_value sent;
  CHECK(napi_create_int64(env, n, &sent));
  return sent;
}

/* getFlags(fd) -> fcntl(F_GETFL): the access mode and status flags of a descriptor. */
static napi_value get_flags(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    napi_throw_type_error(env, "FDPASS_ARG", "getFlags(fd)");
    return NULL;
  }
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) return throw_errno(env, "fcntl", errno);
  napi_value result;
  CHECK(napi_create_int32(env, flags, &result));
  return result;
}

/*
 * dupFlags(fd, flags) -> a close-on-exec duplicate of fd with the status
 * flags of `flags` set, truncated where open() would truncate: QEMU's
 * qemu_dup_flags (util/osdep.c), which opening /dev/fdset/N uses.
 */
static napi_value dup_flags(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd, flags;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_int32(env, argv[1], &flags) != napi_ok) {
    napi_throw_type_error(env, "FDPASS_ARG", "dupFlags(fd, flags)");
    return NULL;
  }
  int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0) return throw_errno(env, "dup", errno);
  int dup_fl = fcntl(dup_fd, F_GETFL);
  int err = 0;
  if (dup_fl < 0) err = errno;
  else if ((flags & O_SYNC) != (dup_fl & O_SYNC)) err = EINVAL;
  else if (fcntl(dup_fd, F_SETFL, flags) < 0) err = errno;
  else if (((flags & O_TRUNC) || (flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL)) && ftruncate(dup_fd, 0) < 0) err = errno;
  if (err != 0) {
    close(dup_fd);
    return throw_errno(env, "dup", err);
  }
  napi_value result;
  CHECK(napi_create_int32(env, dup_fd, &result));
  return result;
}

/*
 * trimHeap() -> whether memory went back: malloc_trim(0), which returns
 * the free pages of glibc's heaps to the system, as QEMU's RCU thread
 * does with malloc_trim(4 MiB) whenever it goes idle (util/rcu.c,
 * call_rcu_thread). Node's buffers are malloc'd and freed by the garbage
 * collector in bursts; glibc keeps what they leave free below the top of
 * its heap. Other C libraries: nothing to do, false.
 */
static napi_value trim_heap(napi_env env, napi_callback_info info) {
  (void)info;
  int released = 0;
#ifdef __GLIBC__
  released = malloc_trim(0);
#endif
  napi_value result;
  CHECK(napi_get_boolean(env, released != 0, &result));
  return result;
}

/*
 * reduceHeap(): V8's memory-reducing full collections, now
 * (native/heap-reduce.cc). V8's own memory reducer runs them only about
 * 8 seconds after the heap went quiet; until then the heap stays as large
 * as a burst of requests made it.
 */
static napi_value reduce_heap(napi_env env, napi_callback_info info) {
  (void)info;
  reduce_v8_heap();
  napi_value result;
  CHECK(napi_get_undefined(env, &result));
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
#ifdef __GLIBC__
  /*
   * glibc's trim threshold, fixed at its first value (128 KiB): glibc
   * raises it to twice each larger mmap'd block freed, up to 64 MiB, and
   * the daemon frees such blocks (a lexer carry it outgrew, the 1 MiB
   * ring storage slab of removed ringbufs). V8's worker threads malloc in
   * arenas of their own (TurboFan compiles there, in zones), and such an
   * arena gives the free memory at its top back only when a free() finds
   * more than the threshold there:
   * malloc_trim() trims the main arena's top, not theirs. With the
   * threshold raised they kept about 1.5 KiB per filled ringbuf after the
   * fill in bench/ringbuf.ts. Fixing it also stops glibc raising its mmap
   * threshold: blocks over it stay mmap'd, as the ring slabs are anyway.
   */
  mallopt(M_TRIM_THRESHOLD, 128 * 1024);
#endif
  napi_property_descriptor properties[] = {
      {"watch", NULL, watch, NULL, NULL, NULL, napi_default, NULL},
      {"start", NULL, start, NULL, NULL, NULL, napi_default, NULL},
      {"stop", NULL, stop, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, close_watcher, NULL, NULL, NULL, napi_default, NULL},
      {"receive", NULL, receive, NULL, NULL, NULL, napi_default, NULL},
      {"sendFds", NULL, send_fds, NULL, NULL, NULL, napi_default, NULL},
      {"getFlags", NULL, get_flags, NULL, NULL, NULL, napi_default, NULL},
      {"dupFlags", NULL, dup_flags, NULL, NULL, NULL, napi_default, NULL},
      {"trimHeap", NULL, trim_heap, NULL, NULL, NULL, napi_default, NULL},
      {"reduceHeap", NULL, reduce_heap, NULL, NULL, NULL, napi_default, NULL},
      {"mapLatin1", NULL, map_latin1, NULL, NULL, NULL, napi_default, NULL},
      {"mapBytes", NULL, map_bytes, NULL, NULL, NULL, napi_default, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
