/** The bhyve provider: configuration, resources and data source. */
import type { BlockDef } from "../plugin/schema.js";
import type { Diagnostic, ProviderDef } from "../plugin/types.js";
import { ProviderContext, parseDuration, str } from "./context.js";
import { guestResource } from "./guest.js";
import { hostFactsDataSource } from "./host-facts.js";
import { hostResource } from "./host.js";
import { pptDeviceResource } from "./ppt-device.js";
import { switchResource } from "./switch.js";

/** Source address of the provider. */
export const PROVIDER_SOURCE = "registry.terraform.io/cdktf-bhyve/bhyve";

const schema: BlockDef = {
  description: "Manages FreeBSD bhyve hosts with PCI passthrough through bhyve-agent over SSH.",
  attributes: {
    ssh_user: { type: "string", optional: true, description: "SSH user. Default root." },
    ssh_private_key: { type: "string", optional: true, sensitive: true, description: "SSH private key (PEM or OpenSSH). Never written to state." },
    ssh_private_key_file: { type: "string", optional: true, description: "Path of the SSH private key." },
    ssh_agent_socket: { type: "string", optional: true, description: "ssh-agent socket. Default $SSH_AUTH_SOCK when no key is given." },
    connect_timeout: { type: "string", optional: true, description: "How long to wait for a host's SSH handshake. Default 15s." },
    command_timeout: { type: "string", optional: true, description: "How long one agent call may take. Default 10m." },
    host_keys: { type: ["map", "string"], optional: true, description: "Host key fingerprints by address, used by terraform import (resources carry their own host_key)." },
    agent_upgrade: { type: "bool", optional: true, description: "When a host runs an older bhyve-agent than this provider's, install this provider's agent over the agent protocol (agent.upgrade; the previous version is kept for rollback; running guests are not touched). Default false: a warning says so." },
  },
};

function validateConfig(config: Record<string, unknown>): Diagnostic[] {
  const diags: Diagnostic[] = [];
  for (const k of ["connect_timeout", "command_timeout"]) {
    const v = str(config[k] as never);
    if (v && parseDuration(v) === null) diags.push({ severity: "error", summary: `Invalid ${k}`, detail: `"${v}" is not a duration such as 15s, 2m or 1h`, attribute: [k] });
  }
  if (str(config.ssh_private_key as never) && str(config.ssh_private_key_file as never)) {
    diags.push({ severity: "error", summary: "Two SSH keys", detail: "set ssh_private_key or ssh_private_key_file, not both", attribute: ["ssh_private_key_file"] });
  }
  return diags;
}

/** Builds the provider with a fresh context. */
export function bhyveProvider(): ProviderDef {
  const ctx = new ProviderContext();
  return {
    schema,
    resources: { bhyve_host: hostResource(ctx), bhyve_ppt_device: pptDeviceResource(ctx), bhyve_switch: switchResource(ctx), bhyve_guest: guestResource(ctx) },
    dataSources: { bhyve_host_facts: hostFactsDataSource(ctx) },
    validateConfig,
    configure: async (config) => ctx.configure(config),
    stop: () => ctx.stop(),
  };
}
