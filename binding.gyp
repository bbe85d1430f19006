{
  "targets": [
    {
      "target_name": "fdpass",
      "sources": ["native/fdpass.c", "native/heap-reduce.cc"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
