{
  "targets": [
    {
      "target_name": "fdpass",
      "sources": ["native/fdpass.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
