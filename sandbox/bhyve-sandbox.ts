#!/usr/bin/env node
/** `bhyve-sandbox`: sandbox FreeBSD hosts (a directory tree with simulated tools) for tests, the demo and the bench. */
import { runMain } from "../agent/cli/errors.js";
import { sandboxMain } from "./cli.js";

await runMain(sandboxMain);
