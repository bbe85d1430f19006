/*
 * Files mapped into memory instead of read: the daemon's launcher
 * (scripts/code-cache-launcher.cjs) maps its bundle's text and its code
 * cache. Read, each would be copied into fresh memory at every start,
 * into a Buffer and then into V8's heap, and every fresh page costs a
 * page fault; mapped, they are the page cache's pages, which the kernel
 * maps sixteen at a time (fault-around) and every process started from
 * the same files shares. The text stays mapped as long as V8 holds it:
 * a script's functions are compiled from it when they first run.
 *
 * A mapping shows the file as it is, not as it was: the build replaces
 * these files (a new file in their place), never rewrites them in place.
 */
/* node_api_create_external_string_latin1 (Node.js >= 20.4) is still marked experimental in Node.js 20's headers. */
#define NAPI_EXPERIMENTAL
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "mapped-file.h"
#include "napi-errors.h"

#define MAX_PATH 4096

typedef struct {
  void *data;
  size_t length;
  int err;
  const char *failed;
} Mapping;

/* Maps the file named by the path argument (prot: PROT_READ, or with PROT_WRITE for pages copied on write). */
static Mapping map_file(napi_env env, napi_callback_info info, int prot) {
  Mapping m = {NULL, 0, 0, NULL};
  size_t argc = 1;
  napi_value arg;
  char path[MAX_PATH];
  size_t path_length;
  if (napi_get_cb_info(env, info, &argc, &arg, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_string_utf8(env, arg, path, sizeof path, &path_length) != napi_ok || path_length >= MAX_PATH - 1) {
    m.err = EINVAL;
    m.failed = "path";
    return m;
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    m.err = errno;
    m.failed = "open";
    return m;
  }
  struct stat st;
  if (fstat(fd, &st) < 0) {
    m.err = errno;
    m.failed = "fstat";
  } else if (!S_ISREG(st.st_mode)) {
    m.err = EINVAL;
    m.failed = "not a regular file";
  } else if (st.st_size > 0) {
    /* mmap() refuses a length of 0; an empty file is no mapping and no bytes. */
    void *data = mmap(NULL, (size_t)st.st_size, prot, MAP_PRIVATE, fd, 0);
    if (data == MAP_FAILED) {
      m.err = errno;
      m.failed = "mmap";
    } else {
      m.data = data;
      m.length = (size_t)st.st_size;
    }
  }
  close(fd);
  return m;
}

static void unmap(node_api_basic_env env, void *data, void *length) {
  (void)env;
  munmap(data, (size_t)length);
}

/*
 * mapLatin1(path): the file as a string of Latin-1 characters, one per
 * byte, whose characters are the mapped pages (an external string). When
 * Node.js cannot make one (a V8 built with its sandbox), it copies the
 * bytes and has already unmapped them.
 */
napi_value map_latin1(napi_env env, napi_callback_info info) {
  Mapping m = map_file(env, info, PROT_READ);
  if (m.err) return throw_errno(env, m.failed, m.err);
  napi_value result;
  if (m.length == 0) {
    CHECK(napi_create_string_latin1(env, "", 0, &result));
    return result;
  }
  bool copied;
  if (node_api_create_external_string_latin1(env, m.data, m.length, unmap, (void *)m.length, &result, &copied) != napi_ok) {
    munmap(m.data, m.length);
    napi_throw_error(env, "FDPASS_NAPI", "N-API call failed: node_api_create_external_string_latin1");
    return NULL;
  }
  return result;
}

/*
 * mapBytes(path): the file's bytes as a Buffer over its mapped pages,
 * unmapped once the Buffer is collected. Writable, but copy on write:
 * what is written stays in this process's own copy of the page, never in
 * the file.
 */
napi_value map_bytes(napi_env env, napi_callback_info info) {
  Mapping m = map_file(env, info, PROT_READ | PROT_WRITE);
  if (m.err) return throw_errno(env, m.failed, m.err);
  napi_value result;
  if (m.length == 0) {
    void *none;
    CHECK(napi_create_buffer(env, 0, &none, &result));
    return result;
  }
  if (napi_create_external_buffer(env, m.length, m.data, unmap, (void *)m.length, &result) != napi_ok) {
    munmap(m.data, m.length);
    napi_throw_error(env, "FDPASS_NAPI", "N-API call failed: napi_create_external_buffer");
    return NULL;
  }
  return result;
}
