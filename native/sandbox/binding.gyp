{
  "targets": [
    {
      "target_name": "sandbox-tool-client",
      "type": "executable",
      "sources": ["tool-client.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-O2"]
    }
  ]
}
