#ifndef CHARDEVD_NAPI_ERRORS_H
#define CHARDEVD_NAPI_ERRORS_H

#include <node_api.h>

/* Returns NULL, with a JS error thrown, from a function whose N-API call failed. */
#define CHECK(call)                                                       \
  do {                                                                    \
    if ((call) != napi_ok) {                                              \
      napi_throw_error(env, "FDPASS_NAPI", "N-API call failed: " #call); \
      return NULL;                                                        \
    }                                                                     \
  } while (0)

/* Throws an Error with code "ERRNO", `errno` set to err and the message "WHAT: strerror(err)"; returns NULL. */
napi_value throw_errno(napi_env env, const char *what, int err);

#endif
