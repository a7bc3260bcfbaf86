/**
 * Simulated makefs(8) for `-t cd9660`: `makefs -t cd9660 -o R,L=LABEL image-file directory`, with
 * usr.sbin/makefs' option table (R/rockridge, L/label, ...), its label rule (at most 32
 * d-characters, lowercase upper-cased) and its errors. The image is not ISO 9660: a 32 KiB system
 * area, then a text header (label, Rock Ridge) and each regular file of the directory with its
 * size and bytes, which {@link readSandboxIso} reads back for tests. An existing image is
 * overwritten, as makefs' fopen("w+") does.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { getopt, type ToolIO } from "./tool.js";

const USAGE = "usage: makefs [-t fs-type] [-o fs-options] [-d debug-mask] [-B endian]\n\t[-S sector-size] [-M minimum-size] [-m maximum-size] [-R roundup-size]\n\t[-s image-size] [-b free-blocks] [-f free-files] [-F mtree-specfile]\n\t[-xZ] [-N userdb-dir] image-file directory | manifest [extra-directory ...]\n";

const BOOLEAN = new Map([["R", "rockridge"], ["S", "follow-symlinks"], ["C", "chrp-boot"], ["K", "keep-bad-images"], ["D", "allow-deep-trees"], ["a", "allow-max-name"], ["i", "allow-illegal-chars"], ["m", "allow-multidot"], ["o", "omit-trailing-period"]]);
const STRING = new Map([["A", "applicationid"], ["P", "publisher"], ["p", "preparer"], ["L", "label"], ["V", "volumeid"], ["B", "bootimage"], ["G", "generic-bootimage"]]);
const NUMERIC = new Map([["l", "isolevel"], ["v", "verbose"]]);
const LONG_ONLY = new Set(["allow-lowercase", "archimedes", "no-trailing-padding", "no-emul-boot", "no-boot", "hard-disk-boot"]);

const MAGIC = "sandbox-cd9660\n";
const SYSTEM_AREA = 32 * 1024;

/** Simulated makefs. */
export function makefs(io: ToolIO): number {
  const g = getopt(io.args, "B:b:d:f:F:M:m:N:o:R:s:S:t:xZ");
  if ("bad" in g) {
    io.err(`makefs: ${g.missingArg ? "option requires an argument" : "illegal option"} -- ${g.bad}\n${USAGE}`);
    return 1;
  }
  let type = "ffs";
  const opts: Record<string, string | true> = {};
  for (const [o, v] of g.opts) {
    if (o === "t") {
      if (!["ffs", "cd9660", "msdos", "zfs"].includes(v)) {
        io.err(`makefs: Unknown fs type \`${v}'.\n`);
        return 1;
      }
      type = v;
    } else if (o === "o") {
      if (type !== "cd9660") {
        io.err(`makefs: the sandbox's makefs builds cd9660 images only (-t cd9660 before -o)\n${USAGE}`);
        return 1;
      }
      for (const item of v.split(",")) {
        if (item === "") {
          io.err("makefs: Empty option\n");
          return 1;
        }
        const eq = item.indexOf("=");
        const key = eq < 0 ? item : item.slice(0, eq);
        const value = eq < 0 ? undefined : item.slice(eq + 1);
        const long = BOOLEAN.get(key) ?? STRING.get(key) ?? NUMERIC.get(key) ?? key;
        const known = [...BOOLEAN.values(), ...STRING.values(), ...NUMERIC.values()].includes(long) || LONG_ONLY.has(long);
        if (!known) {
          io.err(`makefs: Invalid option \`${key}'\n${USAGE}`);
          return 1;
        }
        if ([...STRING.values()].includes(long)) {
          if (value === undefined || value === "") {
            io.err(`makefs: error: The ${long === "label" ? "Disk Label" : long} requires a string argument\n${USAGE}`);
            return 1;
          }
          if (long === "label") {
            if (value.length > 32) {
              io.err(`makefs: error: The Disk Label must be at most 32 characters long\n${USAGE}`);
              return 1;
            }
            if (!/^[A-Za-z0-9_]+$/.test(value)) {
              io.err(`makefs: error: The Disk Label must be composed of d-characters\n${USAGE}`);
              return 1;
            }
          }
          opts[long] = value;
        } else opts[long] = value ?? true;
      }
    }
  }
  if (g.operands.length < 2) {
    io.err(USAGE);
    return 1;
  }
  if (type !== "cd9660") {
    io.err(`makefs: the sandbox's makefs builds cd9660 images only\n`);
    return 1;
  }
  const [image, dir] = g.operands as [string, string];
  const at = (p: string): string => (p.startsWith("/") ? join(io.root, p) : p);
  if (!existsSync(at(dir))) {
    io.err(`makefs: Can't stat \`${dir}': No such file or directory\n`);
    return 1;
  }
  if (!statSync(at(dir)).isDirectory()) {
    io.err(`makefs: ${dir}: not a file or directory\n`);
    return 1;
  }
  const files = readdirSync(at(dir)).sort().filter((f) => statSync(join(at(dir), f)).isFile());
  if (files.length === 0) {
    io.err("makefs: cd9660_makefs: converted directory is empty. Tree conversion failed\n");
    return 1;
  }
  const parts: Buffer[] = [Buffer.alloc(SYSTEM_AREA), Buffer.from(`${MAGIC}label ${String(opts.label ?? "").toUpperCase()}\nrockridge ${opts.rockridge === true ? "yes" : "no"}\n`)];
  for (const f of files) {
    const data = readFileSync(join(at(dir), f));
    parts.push(Buffer.from(`file ${f} ${data.length}\n`), data, Buffer.from("\n"));
  }
  try {
    writeFileSync(at(image), Buffer.concat(parts));
  } catch (e) {
    io.err(`makefs: cd9660_write_image: Can't open \`${image}' for writing: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "No such file or directory" : (e as Error).message}\n`);
    return 1;
  }
  return 0;
}

/** Reads an image the sandbox's makefs wrote: its label, Rock Ridge, and files; null for anything else. */
export function readSandboxIso(bytes: Buffer): { label: string; rockridge: boolean; files: Record<string, string> } | null {
  const body = bytes.subarray(SYSTEM_AREA);
  if (!body.subarray(0, MAGIC.length).equals(Buffer.from(MAGIC))) return null;
  let pos = MAGIC.length;
  const line = (): string => {
    const end = body.indexOf(10, pos);
    const s = body.subarray(pos, end).toString();
    pos = end + 1;
    return s;
  };
  const label = line().slice("label ".length);
  const rockridge = line() === "rockridge yes";
  const files: Record<string, string> = {};
  while (pos < body.length) {
    const m = /^file (\S+) (\d+)$/.exec(line());
    if (!m) return null;
    files[m[1]!] = body.subarray(pos, pos + Number(m[2])).toString();
    pos += Number(m[2]) + 1;
  }
  return { label, rockridge, files };
}
