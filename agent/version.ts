/** The agent's version, reported by `bhyve-agent version` and, later, by `agent.hello`. */
export const AGENT_VERSION = "0.1.0";
