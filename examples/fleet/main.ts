/**
 * The fleet example as a CDKTF app. The inventory comes from BHYVE_FLEET_INVENTORY (a JSON file
 * with the shape of inventory.ts), or the built-in one: three hosts on loopback addresses.
 */
import { App } from "cdktf";
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { parseInventory, type Inventory } from "./inventory.js";
import { FleetStack } from "./stack.js";

const placeholder = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const builtIn: Inventory = {
  sshPrivateKeyFile: join(homedir(), ".ssh", "id_ed25519"),
  hosts: [
    { name: "gpu1", address: "127.0.1.31:22", hostKey: placeholder, role: "gpu", webGuests: 2 },
    { name: "edge1", address: "127.0.1.32:22", hostKey: placeholder, role: "edge", webGuests: 1 },
    { name: "gen1", address: "127.0.1.33:22", hostKey: placeholder, role: "general", webGuests: 3 },
  ],
};

const file = process.env.BHYVE_FLEET_INVENTORY;
const inventory = file ? parseInventory(JSON.parse(readFileSync(file, "utf8"))) : builtIn;
const app = new App();
new FleetStack(app, "fleet", inventory);
app.synth();
