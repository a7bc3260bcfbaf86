import { serve } from "../rpc/server.js";
import { UserError } from "./errors.js";
import { hostOptions } from "./options.js";

const USAGE = "usage: bhyve-agent rpc [--root DIR]";

/** `bhyve-agent rpc`: JSON-RPC on stdin/stdout until EOF (the SSH channel's forced command). */
export async function rpcCommand(args: string[]): Promise<number> {
  const o = hostOptions(args, USAGE);
  if (o.operands.length || o.json) throw new UserError(USAGE, "E_USAGE", 64);
  await serve(o.paths, process.stdin, process.stdout);
  return 0;
}
