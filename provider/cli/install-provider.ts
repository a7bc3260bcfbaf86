/**
 * `cdktf-bhyve install-provider [--mirror DIR]`: puts the provider where Terraform finds it without
 * the registry: an unpacked filesystem mirror, `DIR/registry.terraform.io/cdktf-bhyve/bhyve/
 * VERSION/OS_ARCH/terraform-provider-bhyve_vVERSION`. The default mirror, ~/.terraform.d/plugins,
 * is searched by Terraform without configuration; with --mirror, DIR/terraform.rc is a CLI config
 * (for TF_CLI_CONFIG_FILE) that uses the mirror for this provider and the registry for others.
 * The executable is a file whose #! line runs node on the bundled provider: no shell involved.
 */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { UserError } from "../../agent/cli/errors.js";
import { distFile } from "../../agent/package-files.js";
import { PROVIDER_VERSION } from "../version.js";

/** Terraform's name for this platform (linux_amd64, freebsd_amd64, darwin_arm64, ...). */
export function terraformPlatform(): string {
  const os = process.platform === "win32" ? "windows" : process.platform;
  const arch = { x64: "amd64", arm64: "arm64", ia32: "386", arm: "arm" }[process.arch as string] ?? process.arch;
  return `${os}_${arch}`;
}

/** The bundled provider next to this bundle (dist/), or dist/ of the repository when run from source. */
export function providerBundle(): string {
  return distFile("terraform-provider-bhyve.mjs");
}

/** Installs into `mirror`; returns the executable's path. */
export function installProvider(mirror: string, bundle = providerBundle(), node = process.execPath): string {
  if (!existsSync(bundle)) throw new UserError(`the provider bundle ${bundle} is missing; run npm run build`, "E_NO_BUNDLE");
  const shebang = `#!${node} ${bundle}\n`;
  if (/\s/.test(node) || /\s/.test(bundle) || shebang.length > 255) {
    throw new UserError(`cannot write a #! line for ${node} and ${bundle} (white space, or longer than 255 characters)`, "E_SHEBANG");
  }
  const dir = join(mirror, "registry.terraform.io", "cdktf-bhyve", "bhyve", PROVIDER_VERSION, terraformPlatform());
  mkdirSync(dir, { recursive: true });
  const exe = join(dir, `terraform-provider-bhyve_v${PROVIDER_VERSION}`);
  writeFileSync(exe, shebang);
  chmodSync(exe, 0o755);
  return exe;
}

/** A Terraform CLI config that takes this provider from `mirror` and everything else from the registry. */
export function cliConfig(mirror: string): string {
  const m = JSON.stringify(mirror);
  return `provider_installation {
  filesystem_mirror {
    path    = ${m}
    include = ["registry.terraform.io/cdktf-bhyve/*"]
  }
  direct {
    exclude = ["registry.terraform.io/cdktf-bhyve/*"]
  }
}
`;
}

/** Installs into `mirror` and writes `mirror/terraform.rc` for it; returns the config's path (for TF_CLI_CONFIG_FILE). */
export function installMirror(mirror: string, bundle = providerBundle()): string {
  installProvider(mirror, bundle);
  const rc = join(mirror, "terraform.rc");
  writeFileSync(rc, cliConfig(mirror));
  return rc;
}

/** Runs the command. */
export function installProviderCommand(args: string[]): number {
  const usage = "usage: cdktf-bhyve install-provider [--mirror DIR]";
  let mirror: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--mirror" && args[i + 1]) mirror = resolve(args[++i]!);
    else throw new UserError(usage, "E_USAGE", 64);
  }
  if (!mirror) {
    process.stdout.write(`installed ${installProvider(join(homedir(), ".terraform.d", "plugins"))}\n`);
    return 0;
  }
  const rc = installMirror(mirror);
  process.stdout.write(`installed into ${mirror}\nwrote ${rc}: export TF_CLI_CONFIG_FILE=${rc}\n`);
  return 0;
}
