#ifndef CHARDEVD_HEAP_REDUCE_H
#define CHARDEVD_HEAP_REDUCE_H

#ifdef __cplusplus
extern "C" {
#endif

/* Runs V8's memory-reducing full collections on the current isolate (native/heap-reduce.cc). */
void reduce_v8_heap(void);

#ifdef __cplusplus
}
#endif

#endif
