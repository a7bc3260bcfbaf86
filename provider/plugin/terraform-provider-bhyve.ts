/** terraform-provider-bhyve: started by Terraform, never by hand. */
import { bhyveProvider } from "../resources/provider.js";
import { servePlugin } from "./server.js";

await servePlugin(bhyveProvider());
