/**
 * The bench's side by side with what an operator would otherwise use: an Ansible playbook that
 * checks the same hosts read-only (`ansible-playbook --check --diff`), over SSH to the same
 * sandbox hosts (their gateways give the bench's second key a shell). Per host it reads the facts
 * the agent reads (the same tools), diffs loader.conf against the file the desired state renders
 * to, checks each reserved device is on ppt and each guest's monitor reports it running: what a
 * no-op `terraform plan` establishes. Runs only where `ansible-playbook` is installed (Debian's
 * ansible-core); the bench says so otherwise.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { decodeWholeDocument } from "../../../agent/model/document.js";
import { formatBsf } from "../../../agent/model/pci-address.js";
import { renderLoaderConf } from "../../../agent/model/render.js";
import { parseLoaderConf, withManagedBlock } from "../../../agent/parse/loader-conf.js";
import { TOOL_PATHS } from "../../../sandbox/tool-paths.js";

/** `ansible-playbook` on PATH, or null. */
export function ansiblePlaybook(): string | null {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const p = join(dir, "ansible-playbook");
    if (dir && existsSync(p)) return p;
  }
  return null;
}

/** A host as the playbook sees it. */
export interface AnsibleHost {
  readonly name: string;
  /** host:port of its SSH gateway. */
  readonly address: string;
  /** The sandbox root (the shell's working directory there). */
  readonly root: string;
  /** loader.conf as the host was created (the operator's lines). */
  readonly loaderConf: string;
  /** The desired-state document the stack wrote for it. */
  readonly document: string;
  readonly cpuVendor: "intel" | "amd";
}

/** The facts the agent gathers, as tool command lines (the sandbox's tools, at their FreeBSD paths). */
const FACT_COMMANDS = [
  `${TOOL_PATHS.pciconf} -lv`,
  `${TOOL_PATHS.sysctl} hw.model hw.ncpu hw.physmem vm.max_user_wired kern.osrelease`,
  `${TOOL_PATHS.sysctl} hw.vmm`,
  `${TOOL_PATHS.kldstat} -v`,
  `${TOOL_PATHS.acpidump} -t`,
  `${TOOL_PATHS.ifconfig} -a`,
  `${TOOL_PATHS.route} -n get default`,
  `${TOOL_PATHS.mount} -p`,
  `${TOOL_PATHS.zpool} status -P`,
  `${TOOL_PATHS.camcontrol} devlist -v`,
];


/** Writes the inventory, configuration and playbook into `dir`; returns the playbook's path. */
export function writeAnsibleCheck(dir: string, hosts: readonly AnsibleHost[], ssh: { keyFile: string; knownHosts: string; forks: number; user: string }): string {
  mkdirSync(join(dir, "files"), { recursive: true });
  const lines = ["[bhyve]"];
  for (const h of hosts) {
    const m = /^(.*):(\d+)$/.exec(h.address);
    if (!m) throw new Error(`cannot read host and port from ${h.address}`);
    const state = decodeWholeDocument(h.document);
    const expected = withManagedBlock(parseLoaderConf(h.loaderConf), renderLoaderConf(state, { cpuVendor: h.cpuVendor }));
    writeFileSync(join(dir, "files", `${h.name}.loader.conf`), expected);
    writeFileSync(join(dir, `${h.name}.vars.json`), JSON.stringify({
      root: h.root,
      guests: state.guests.filter((g) => g.state === "running").map((g) => g.name),
      live_devices: state.ppt.filter((p) => p.bind === "live").map((p) => formatBsf(p.device).replace(/^(\d+)\/(\d+)\/(\d+)$/, "pci0:$1:$2:$3")),
    }));
    lines.push(`${h.name} ansible_host=${m[1]} ansible_port=${m[2]}`);
  }
  writeFileSync(join(dir, "inventory.ini"), `${lines.join("\n")}\n`);
  writeFileSync(join(dir, "ansible.cfg"), [
    "[defaults]",
    "inventory = inventory.ini",
    `forks = ${ssh.forks}`,
    "gathering = explicit",
    "host_key_checking = True",
    "retry_files_enabled = False",
    "interpreter_python = /usr/bin/python3",
    `remote_user = ${ssh.user}`,
    `private_key_file = ${ssh.keyFile}`,
    "[ssh_connection]",
    "pipelining = True",
    `ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=${ssh.knownHosts} -o StrictHostKeyChecking=yes -o BatchMode=yes`,
    `control_path_dir = ${join(dir, "cp")}`,
    "",
  ].join("\n"));
  const playbook = `- hosts: bhyve
  gather_facts: false
  tasks:
    - name: load the host's desired state
      include_vars: "{{ playbook_dir }}/{{ inventory_hostname }}.vars.json"
    - name: read the host's facts with its own tools
      command: "{{ root }}/{{ item }}"
      loop: ${JSON.stringify(FACT_COMMANDS)}
      check_mode: false
      changed_when: false
    - name: loader.conf is the rendered file
      copy:
        src: "{{ playbook_dir }}/files/{{ inventory_hostname }}.loader.conf"
        dest: "{{ root }}/boot/loader.conf"
    - name: each live reservation is on ppt
      command: "{{ root }}/${TOOL_PATHS.pciconf} -l {{ item }}"
      loop: "{{ live_devices }}"
      register: ppt
      check_mode: false
      changed_when: false
      failed_when: "not ppt.stdout.startswith('ppt')"
    - name: each guest's monitor reports it running
      command: "cat {{ root }}/var/run/bhyve-agent/guests/{{ item }}/status"
      loop: "{{ guests }}"
      register: guest
      check_mode: false
      changed_when: false
      failed_when: "'state=running' not in guest.stdout"
`;
  const file = join(dir, "check.yml");
  writeFileSync(file, playbook);
  return file;
}

/** Runs the playbook in check and diff mode; resolves with the outcome. */
export function runAnsibleCheck(dir: string, playbook: string, binary: string, timeoutMs = 600_000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(binary, ["--check", "--diff", playbook], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: dir, ANSIBLE_CONFIG: join(dir, "ansible.cfg"), ANSIBLE_LOCAL_TEMP: join(dir, "tmp"), ANSIBLE_NOCOLOR: "1", LANG: "C.UTF-8" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/** The document the stack wrote for a host, by its address (from bhyve/hosts.json). */
export function stackDocument(stackDir: string, address: string): string {
  const manifest = JSON.parse(readFileSync(join(stackDir, "bhyve", "hosts.json"), "utf8")) as { hosts: Array<{ address: string; document: string }> };
  const entry = manifest.hosts.find((h) => h.address === address);
  if (!entry) throw new Error(`the stack has no document for ${address}`);
  return readFileSync(join(stackDir, entry.document), "utf8");
}
