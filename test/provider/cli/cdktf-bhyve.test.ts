import assert from "node:assert/strict";
import { test } from "node:test";
import { runBin } from "../../cli-helpers.js";

test("demo: shows the example as a reviewer reads it and refuses the broken variant", () => {
  const r = runBin("cdktf-bhyve", ["demo"]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^ {2}pptdevs="3\/0\/0 3\/0\/1 4\/0\/1"$/m);
  assert.match(r.stdout, /^ {2}\$ \/usr\/sbin\/bhyve -c 8 -m 32G -S .* ml1$/m);
  assert.match(r.stdout, /^ {2}\$ \/usr\/sbin\/bhyveload -m 2G -S -d \/dev\/zvol\/zroot\/vm\/fw1 fw1$/m);
  assert.match(r.stdout, /guests\[1\]\.passthru\[1\]\.device: 3\/0\/1 is a function of the device at 3\/0/);
  assert.match(r.stdout, /guests\[0\]\.disks\[0\]\.slot: slot 6 is already taken by passthru\[0\] \(3\/0\/0\)/);
});

test("bench says it is not built yet; unknown commands are usage errors", () => {
  const b = runBin("cdktf-bhyve", ["bench"]);
  assert.equal(b.status, 0);
  assert.match(b.stdout, /not yet/);
  assert.equal(runBin("cdktf-bhyve", ["nope"]).status, 64);
});
