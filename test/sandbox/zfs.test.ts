import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { rebootSandbox } from "../../sandbox/host.js";
import { readSandboxIso } from "../../sandbox/tools/makefs.js";
import { zfsNumber } from "../../sandbox/tools/zfs.js";
import { volsizeToReservation } from "../../sandbox/zfs-pool.js";
import { TestSandbox } from "../support/sandbox.js";

const GiB = 2 ** 30;

describe("zfs, as OpenZFS 2.2's zfs(8) behaves", () => {
  const sb = new TestSandbox("intel-vtd");
  after(() => sb.destroy());
  const list = (...args: string[]) => sb.run("zfs", ["list", "-H", "-p", ...args]);

  test("sizes parse as zfs_nicestrtonum does", () => {
    assert.equal(zfsNumber("20G"), 20 * GiB);
    assert.equal(zfsNumber("20gib"), 20 * GiB);
    assert.equal(zfsNumber("1.5G"), 1.5 * GiB);
    assert.equal(zfsNumber("16K"), 16384);
    assert.equal(zfsNumber("abc"), "bad numeric value 'abc'");
    assert.equal(zfsNumber("20X"), "invalid numeric suffix 'X'");
    assert.equal(volsizeToReservation(20 * GiB, 16384), 21813002240);
  });

  test("a host starts with its root datasets, the shared volumes and an image with a snapshot", () => {
    const r = list("-t", "volume,snapshot", "-o", "name,type,volsize,volmode", "-r", "zroot/images");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `zroot/images/freebsd-14.3\tvolume\t${8 * GiB}\tdev\nzroot/images/freebsd-14.3@base\tsnapshot\t${8 * GiB}\t-\n`);
    assert.equal(list("-t", "snapshot", "-o", "volblocksize", "zroot/images/freebsd-14.3@base").stdout, "-\n", "volblocksize is a volume's property, not its snapshot's");
    assert.ok(existsSync(join(sb.root, "dev/zvol/zroot/vm/web1")));
  });

  test("create -p -s -V makes the parents, a sparse volume and its /dev/zvol node; a user property is kept", () => {
    const r = sb.run("zfs", ["create", "-p", "-s", "-V", "20G", "-o", "volmode=dev", "-o", "bhyve-agent:guest=web1", "zroot/vm/web1x/disk0"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "");
    assert.equal(list("-o", "name,volsize,volblocksize,refreservation,bhyve-agent:guest", "zroot/vm/web1x/disk0").stdout, `zroot/vm/web1x/disk0\t${20 * GiB}\t16384\t0\tweb1\n`);
    assert.equal(list("-o", "name,type", "zroot/vm/web1x").stdout, "zroot/vm/web1x\tfilesystem\n");
    assert.ok(existsSync(join(sb.root, "dev/zvol/zroot/vm/web1x/disk0")));
    const get = sb.run("zfs", ["get", "-H", "-p", "-o", "name,property,value,source", "volsize,bhyve-agent:guest,bhyve-agent:other", "zroot/vm/web1x/disk0"]);
    assert.equal(get.stdout, `zroot/vm/web1x/disk0\tvolsize\t${20 * GiB}\tlocal\nzroot/vm/web1x/disk0\tbhyve-agent:guest\tweb1\tlocal\nzroot/vm/web1x/disk0\tbhyve-agent:other\t-\t-\n`);
  });

  test("errors as zfs words them: exists, no parent, no pool, size, block size, bad names, usage", () => {
    const cases: Array<[string[], number, string]> = [
      [["create", "-s", "-V", "1G", "zroot/vm/web1x/disk0"], 1, "cannot create 'zroot/vm/web1x/disk0': dataset already exists\n"],
      [["create", "-V", "1G", "zroot/vm/nope/disk0"], 1, "cannot create 'zroot/vm/nope/disk0': parent does not exist\n"],
      [["create", "-V", "1G", "tank/vm/disk0"], 1, "cannot open 'tank': no such pool\n"],
      [["create", "-V", "abc", "zroot/vm/d"], 1, "bad volume size 'abc': bad numeric value 'abc'\n"],
      [["create", "-V", "0", "zroot/vm/d"], 1, "cannot create 'zroot/vm/d': volume size cannot be zero\n"],
      [["create", "-b", "3K", "-V", "1G", "zroot/vm/d"], 1, "cannot create 'zroot/vm/d': 'volblocksize' must be power of 2 from 512B to 128K\n"],
      [["create", "-V", "1G", "zroot/vm/d@x"], 1, "cannot create 'zroot/vm/d@x': snapshot delimiter '@' is not expected here\n"],
      [["create", "-V", "1G", "zroot/vm/d!"], 1, "cannot create 'zroot/vm/d!': invalid character '!' in name\n"],
      [["create", "-V", "1G", "-o", "volmode=fast", "zroot/vm/d"], 1, "cannot create 'zroot/vm/d': 'volmode' must be one of 'default | full | geom | dev | none'\n"],
      [["create", "-V", "1G", "zroot/vm/web1/child"], 1, "cannot create 'zroot/vm/web1/child': parent is not a filesystem\n"],
    ];
    for (const [args, status, stderr] of cases) {
      const r = sb.run("zfs", args);
      assert.equal(r.stderr, stderr, args.join(" "));
      assert.equal(r.status, status, args.join(" "));
    }
    const u = sb.run("zfs", ["create", "-s", "zroot/vm/fs"]);
    assert.equal(u.status, 2);
    assert.match(u.stderr, /^'-s' and '-b' can only be used when creating a volume\nusage:\n/);
    assert.equal(list("zroot/vm/d").stderr, "cannot open 'zroot/vm/d': dataset does not exist\n");
  });

  test("create rounds the size up to the block size; set volsize must be a multiple of it; grow and shrink both pass", () => {
    assert.equal(sb.run("zfs", ["create", "-s", "-V", "1000K", "zroot/vm/odd"]).status, 0);
    assert.equal(list("-o", "volsize", "zroot/vm/odd").stdout, `${1008 * 1024}\n`);
    const bad = sb.run("zfs", ["set", "volsize=1000K", "zroot/vm/odd"]);
    assert.equal(bad.status, 1);
    assert.equal(bad.stderr, "cannot set property for 'zroot/vm/odd': 'volsize' must be a multiple of volume block size (16K)\n");
    assert.equal(sb.run("zfs", ["set", "volsize=2G", "zroot/vm/odd"]).status, 0);
    assert.equal(list("-o", "volsize", "zroot/vm/odd").stdout, `${2 * GiB}\n`);
    assert.equal(sb.run("zfs", ["set", "volblocksize=8K", "zroot/vm/odd"]).stderr, "cannot set property for 'zroot/vm/odd': 'volblocksize' is readonly\n");
  });

  test("a thick volume reserves its space: the pool runs out, and growing follows the reservation", () => {
    const r = sb.run("zfs", ["create", "-V", "10G", "zroot/vm/thick"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(list("-o", "refreservation", "zroot/vm/thick").stdout, `${volsizeToReservation(10 * GiB, 16384)}\n`);
    const big = sb.run("zfs", ["create", "-V", "2T", "zroot/vm/huge"]);
    assert.equal(big.stderr, "cannot create 'zroot/vm/huge': out of space\n");
    assert.equal(big.status, 1);
    assert.equal(sb.run("zfs", ["create", "-s", "-V", "2T", "zroot/vm/huge"]).status, 0, "a sparse volume reserves nothing");
    const grow = sb.run("zfs", ["set", "volsize=1T", "zroot/vm/thick"]);
    assert.equal(grow.stderr, "cannot set property for 'zroot/vm/thick': out of space\n");
    assert.equal(list("-o", "volsize", "zroot/vm/thick").stdout, `${10 * GiB}\n`, "unchanged after the failure");
  });

  test("snapshot, clone (with -p and properties), destroy with its refusals", () => {
    assert.equal(sb.run("zfs", ["clone", "-p", "-o", "volmode=dev", "-o", "bhyve-agent:guest=web2", "zroot/images/freebsd-14.3@base", "zroot/vm/web2x/disk0"]).status, 0);
    assert.equal(list("-o", "name,origin,volsize,bhyve-agent:guest", "zroot/vm/web2x/disk0").stdout, `zroot/vm/web2x/disk0\tzroot/images/freebsd-14.3@base\t${8 * GiB}\tweb2\n`);
    assert.ok(existsSync(join(sb.root, "dev/zvol/zroot/vm/web2x/disk0")));
    assert.equal(sb.run("zfs", ["clone", "zroot/images/freebsd-14.3@nope", "zroot/vm/c"]).stderr, "cannot open 'zroot/images/freebsd-14.3@nope': dataset does not exist\n");
    assert.equal(sb.run("zfs", ["clone", "zroot/images/freebsd-14.3", "zroot/vm/c"]).stderr, "cannot open 'zroot/images/freebsd-14.3': missing '@' delimiter in snapshot name\n");
    const dep = sb.run("zfs", ["destroy", "zroot/images/freebsd-14.3@base"]);
    assert.equal(dep.stderr, "cannot destroy 'zroot/images/freebsd-14.3@base': snapshot has dependent clones\nuse '-R' to destroy the following datasets:\nzroot/vm/web2x/disk0\n");
    assert.equal(sb.run("zfs", ["snapshot", "zroot/vm/web2x/disk0@keep"]).status, 0);
    const kids = sb.run("zfs", ["destroy", "zroot/vm/web2x/disk0"]);
    assert.equal(kids.stderr, "cannot destroy 'zroot/vm/web2x/disk0': volume has children\nuse '-r' to destroy the following datasets:\nzroot/vm/web2x/disk0@keep\n");
    assert.equal(kids.status, 1);
    assert.equal(sb.run("zfs", ["destroy", "zroot/vm/web2x/disk0@keep"]).status, 0);
    assert.equal(sb.run("zfs", ["destroy", "zroot/vm/web2x/disk0"]).status, 0);
    assert.ok(!existsSync(join(sb.root, "dev/zvol/zroot/vm/web2x/disk0")), "the node goes with the volume");
    assert.equal(sb.run("zfs", ["destroy", "zroot/vm/web2x/disk0"]).stderr, "cannot open 'zroot/vm/web2x/disk0': dataset does not exist\n");
  });

  test("datasets survive a reboot, and their nodes come back", async () => {
    await rebootSandbox(sb.root);
    assert.equal(list("-o", "name,bhyve-agent:guest", "zroot/vm/web1x/disk0").stdout, "zroot/vm/web1x/disk0\tweb1\n");
    assert.ok(existsSync(join(sb.root, "dev/zvol/zroot/vm/web1x/disk0")));
  });
});

describe("ps, as FreeBSD's shows bhyve", () => {
  const sb = new TestSandbox("intel-vtd");
  after(() => sb.destroy());
  test("no bhyve: nothing listed; header only without '='; an unknown keyword refused", () => {
    assert.equal(sb.run("ps", ["-ax", "-o", "pid=", "-o", "command="]).stdout, "");
    assert.equal(sb.run("ps", ["-ax", "-o", "pid,command"]).stdout, "  PID COMMAND\n");
    const bad = sb.run("ps", ["-ax", "-o", "rss="]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^ps: rss: keyword not found/);
  });
});

describe("makefs -t cd9660, as usr.sbin/makefs behaves", () => {
  const sb = new TestSandbox("intel-vtd");
  after(() => sb.destroy());

  test("a NoCloud seed: the label upper-cased, Rock Ridge, every file", () => {
    const dir = join(sb.root, "tmp/seed");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "user-data"), "#cloud-config\nhostname: web1\n");
    writeFileSync(join(dir, "meta-data"), "instance-id: iid-1\n");
    const r = sb.run("makefs", ["-t", "cd9660", "-o", "R,L=cidata", "/tmp/seed.iso", "/tmp/seed"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "");
    const iso = readSandboxIso(readFileSync(join(sb.root, "tmp/seed.iso")));
    assert.deepEqual(iso, { label: "CIDATA", rockridge: true, files: { "meta-data": "instance-id: iid-1\n", "user-data": "#cloud-config\nhostname: web1\n" } });
  });

  test("its errors: the label's characters and length, a missing directory, an empty one", () => {
    mkdirSync(join(sb.root, "tmp/empty"), { recursive: true });
    const cases: Array<[string[], RegExp]> = [
      [["-t", "cd9660", "-o", "L=ci-data", "/tmp/x.iso", "/tmp/seed"], /^makefs: error: The Disk Label must be composed of d-characters\n/],
      [["-t", "cd9660", "-o", `L=${"a".repeat(33)}`, "/tmp/x.iso", "/tmp/seed"], /^makefs: error: The Disk Label must be at most 32 characters long\n/],
      [["-t", "cd9660", "-o", "R,L=cidata", "/tmp/x.iso", "/tmp/nope"], /^makefs: Can't stat `\/tmp\/nope': No such file or directory\n$/],
      [["-t", "cd9660", "-o", "R,L=cidata", "/tmp/x.iso", "/tmp/empty"], /converted directory is empty/],
      [["-t", "udf", "/tmp/x.iso", "/tmp/seed"], /^makefs: Unknown fs type `udf'\.\n$/],
    ];
    for (const [args, re] of cases) {
      const r = sb.run("makefs", args);
      assert.equal(r.status, 1, args.join(" "));
      assert.match(r.stderr, re, args.join(" "));
    }
  });
});
