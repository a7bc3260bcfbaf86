import { readFile } from "node:fs/promises";
import { MAX_DOCUMENT_BYTES } from "../spec/document.js";
import { UserError } from "./errors.js";

/** Reads a document from a file, or from standard input for `-`, refusing more than the document limit. */
export async function readInput(file: string): Promise<string> {
  if (file === "-") {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_DOCUMENT_BYTES) throw new UserError(`standard input: document is larger than ${MAX_DOCUMENT_BYTES} bytes`, "E_TOO_LARGE");
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString("utf8");
  }
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : code === "EACCES" ? "permission denied" : String(code);
    throw new UserError(`${file}: cannot read: ${why}`, "E_READ");
  }
}
