#ifndef CHARDEVD_MAPPED_FILE_H
#define CHARDEVD_MAPPED_FILE_H

#include <node_api.h>

/* mapLatin1(path): the file's bytes as a Latin-1 string that reads the file's pages, not a copy of them. */
napi_value map_latin1(napi_env env, napi_callback_info info);

/* mapBytes(path): the file's bytes as a read-only-mapped Buffer. */
napi_value map_bytes(napi_env env, napi_callback_info info);

#endif
