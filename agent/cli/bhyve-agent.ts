#!/usr/bin/env node
/** `bhyve-agent`: the one command that runs on a bhyve host. */
import { runMain } from "./errors.js";
import { main } from "./main.js";

await runMain(main);
