/*
 * V8's memory-reducing collection, which only V8's C++ API offers: N-API
 * has no call for it, hence this one C++ file beside fdpass.c.
 */
#include <v8.h>
#include "heap-reduce.h"

/*
 * LowMemoryNotification() runs full collections that compact the heap and
 * give its free pages back, until one frees nothing more, all before it
 * returns: the collections it runs are over when it returns (about 20 ms
 * for a daemon holding 1,000 filled ringbufs). MemoryPressureNotification
 * (kCritical) gave back no more and may leave incremental marking running
 * behind it.
 */
extern "C" void reduce_v8_heap(void) {
  v8::Isolate::GetCurrent()->LowMemoryNotification();
}
