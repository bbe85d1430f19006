{
  "targets": [
    {
      "target_name": "fdpass",
      "sources": ["native/fdpass.c", "native/heap-reduce.cc", "native/mapped-file.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
