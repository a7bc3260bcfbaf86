/**
 * Parsers for the host's own network: ifconfig(8) blocks (addresses, lagg ports, bridge members,
 * the parent of a vlan or wlan) and `route -n get` (the interface a destination leaves by). Pure
 * functions from text.
 */

/** One interface as ifconfig prints it. */
export interface IfconfigInterface {
  readonly name: string;
  readonly flags: readonly string[];
  readonly inet: readonly string[];
  readonly inet6: readonly string[];
  /** lagg(4) ports (`laggport:` lines). */
  readonly laggPorts: readonly string[];
  /** if_bridge(4) members (`member:` lines). */
  readonly bridgeMembers: readonly string[];
  /** Interface groups (`groups: lagg`, `groups: vlan`, ...). */
  readonly groups: readonly string[];
  /** The interface a vlan(4) or wlan(4) sits on (`parent interface: lagg0`), or null. */
  readonly parent: string | null;
  /** A vlan(4)'s tag (`vlan: 100 vlanproto: 802.1q ...`), or null. */
  readonly vlan: number | null;
  /** The interface's description (`description: ...`), or null. */
  readonly description: string | null;
  /** The MTU on the flags line. */
  readonly mtu: number | null;
  /** A tap(4) held open: the process (`Opened by PID N`), or null. */
  readonly openedBy: number | null;
}

/** Parses `ifconfig -a` (or one interface's block). */
export function parseIfconfig(text: string): IfconfigInterface[] {
  const out: Array<{ -readonly [K in keyof IfconfigInterface]: IfconfigInterface[K] extends readonly string[] ? string[] : IfconfigInterface[K] }> = [];
  for (const line of text.split("\n")) {
    const head = /^([^\s:]+): flags=[0-9a-f]+<([^>]*)>(?:.*\smtu (\d+))?/.exec(line);
    if (head) {
      out.push({ name: head[1]!, flags: head[2] ? head[2].split(",") : [], inet: [], inet6: [], laggPorts: [], bridgeMembers: [], groups: [], parent: null, vlan: null, description: null, mtu: head[3] ? Number(head[3]) : null, openedBy: null });
      continue;
    }
    const cur = out[out.length - 1];
    if (!cur || !/^\s/.test(line)) continue;
    const t = line.trim();
    let m: RegExpExecArray | null;
    if ((m = /^inet (\d+\.\d+\.\d+\.\d+)\b/.exec(t))) cur.inet.push(m[1]!);
    else if ((m = /^inet6 ([0-9a-fA-F:.]+)(?:%\S+)?\b/.exec(t))) cur.inet6.push(m[1]!);
    else if ((m = /^laggport: (\S+)/.exec(t))) cur.laggPorts.push(m[1]!);
    else if ((m = /^member: (\S+)/.exec(t))) cur.bridgeMembers.push(m[1]!);
    else if ((m = /^groups:((?:\s+\S+)+)/.exec(t))) cur.groups.push(...m[1]!.trim().split(/\s+/));
    // ifconfig.c prints the description as given, after "description: " (a line of its own).
    else if (line.startsWith("\tdescription: ")) cur.description = line.slice("\tdescription: ".length);
    else if ((m = /^Opened by PID (\d+)$/.exec(t))) cur.openedBy = Number(m[1]);
    else {
      // ifvlan.c: "vlan: 100 vlanproto: 802.1q vlanpcp: 0 parent interface: lagg0" (older releases
      // print fewer fields before "parent interface:"); ifieee80211.c: "parent interface: iwm0".
      if ((m = /^vlan: (\d+)\b/.exec(t))) cur.vlan = Number(m[1]);
      if ((m = /(?:^|\s)parent interface: (\S+)/.exec(t))) cur.parent = m[1]!;
    }
  }
  return out;
}

/** What `route -n get` says about a destination. */
export interface RouteGet {
  readonly destination: string | null;
  readonly gateway: string | null;
  readonly interface: string | null;
  readonly flags: readonly string[];
}

/** Parses `route -n get DEST`. */
export function parseRouteGet(text: string): RouteGet {
  const field = (name: string): string | null => new RegExp(`^\\s*${name}: (.*)$`, "m").exec(text)?.[1]?.trim() ?? null;
  const flags = /^\s*flags: <([^>]*)>/m.exec(text)?.[1];
  return { destination: field("destination"), gateway: field("gateway"), interface: field("interface"), flags: flags ? flags.split(",") : [] };
}

/** The PCI address in a newbus `%location` value (`... dbsf=pci0:4:0:1 ...`), as B/S/F, or null. */
export function locationBsf(location: string): string | null {
  const m = /\bdbsf=pci(\d+):(\d+):(\d+):(\d+)\b/.exec(location);
  return m && m[1] === "0" ? `${m[2]}/${m[3]}/${m[4]}` : null;
}
