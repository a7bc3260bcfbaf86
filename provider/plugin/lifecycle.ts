/**
 * go-plugin's side services and the plugin's lifecycle: health, the controller's Shutdown, the
 * broker and stdio streams Terraform opens, and stopping on Shutdown or SIGTERM (the provider's
 * connections closed first, the socket removed).
 */
import type * as grpc from "@grpc/grpc-js";
import { rmSync } from "node:fs";
import type { ProviderDef } from "./types.js";

/** Adds go-plugin's services to `server`; returns the shutdown, which also runs on SIGTERM. */
export function addLifecycleServices(server: grpc.Server, pkg: any, provider: ProviderDef, socketDir: string): () => void {
  let stopping = false;
  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    void provider.stop().finally(() => {
      server.tryShutdown(() => {
        rmSync(socketDir, { recursive: true, force: true });
        process.exit(0);
      });
      setTimeout(() => process.exit(0), 2000).unref();
    });
  };
  server.addService(pkg.grpc.health.v1.Health.service, {
    Check: (_call: unknown, cb: grpc.sendUnaryData<object>) => cb(null, { status: "SERVING" }),
    Watch: (call: grpc.ServerWritableStream<unknown, object>) => call.write({ status: "SERVING" }),
  });
  server.addService(pkg.plugin.GRPCController.service, {
    Shutdown: (_call: unknown, cb: grpc.sendUnaryData<object>) => {
      cb(null, {});
      // Answer first, then go: go-plugin waits for the connection to close.
      setImmediate(shutdown);
    },
  });
  server.addService(pkg.plugin.GRPCBroker.service, {
    // Terraform opens the broker stream and never uses it with providers: keep it open and idle.
    StartStream: (call: grpc.ServerDuplexStream<unknown, unknown>) => {
      call.on("data", () => {});
      call.on("end", () => call.end());
    },
  });
  server.addService(pkg.plugin.GRPCStdio.service, {
    StreamStdio: (call: grpc.ServerWritableStream<unknown, unknown>) => {
      call.on("cancelled", () => call.end());
    },
  });

  process.on("SIGTERM", shutdown);
  // Terraform sends SIGINT to the whole process group on Ctrl-C and expects plugins to carry on
  // until told to stop through the protocol.
  process.on("SIGINT", () => {});
  return shutdown;
}
