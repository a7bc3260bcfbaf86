import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from "node:fs";
import { decodeDocumentBytes, MAX_DOCUMENT_BYTES } from "../model/document.js";
import { UserError } from "./errors.js";

/** What kind of file `st` is, for a message. */
function kindOf(st: Stats): string {
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a FIFO";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isSocket()) return "a socket";
  return "not a regular file";
}

function cannotRead(file: string, err: unknown): UserError {
  const code = (err as NodeJS.ErrnoException).code;
  const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : code === "ELOOP" ? "too many symbolic links"
    : code === "ENOTDIR" ? "a part of the path is not a directory" : code === "ENAMETOOLONG" ? "the name is too long" : String(code);
  return new UserError(`${file}: cannot read: ${why}`, "E_READ");
}

function notRegular(file: string, st: Stats): UserError {
  if (st.isDirectory()) return new UserError(`${file}: cannot read: is a directory`, "E_READ");
  return new UserError(`${file}: cannot read: is ${kindOf(st)}, not a regular file; give a file, or - for standard input`, "E_NOT_REGULAR");
}

/** Reads up to `limit` bytes from `fd` (fewer at end of file). */
function readAtMost(fd: number, limit: number): Buffer {
  const buf = Buffer.alloc(limit);
  let got = 0;
  while (got < limit) {
    const n = readSync(fd, buf, got, limit - got, null);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

/**
 * A regular file's bytes, at most the document limit. Anything else (a FIFO, which would block
 * until a writer comes; a device such as /dev/zero, which never ends) is refused before a byte is
 * read: stat first, so that no device is even opened, and fstat after a non-blocking open, so that
 * a file swapped in between is caught too.
 */
function readRegularFile(file: string): Buffer {
  let before: Stats;
  try {
    before = statSync(file);
  } catch (err) {
    throw cannotRead(file, err);
  }
  if (!before.isFile()) throw notRegular(file, before);
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw cannotRead(file, err);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw notRegular(file, st);
    const bytes = readAtMost(fd, MAX_DOCUMENT_BYTES + 1);
    if (bytes.length > MAX_DOCUMENT_BYTES) throw new UserError(`${file}: document is larger than ${MAX_DOCUMENT_BYTES} bytes`, "E_TOO_LARGE");
    return bytes;
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw cannotRead(file, err);
  } finally {
    closeSync(fd);
  }
}

/** Standard input's bytes, refusing (and no longer reading) past the document limit. */
async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_DOCUMENT_BYTES) throw new UserError(`standard input: document is larger than ${MAX_DOCUMENT_BYTES} bytes`, "E_TOO_LARGE");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * Reads a document from a regular file, or from standard input for `-`: at most the document
 * limit, as UTF-8 text (a leading byte order mark is dropped). Each refusal is a UserError with
 * its own code: E_READ, E_NOT_REGULAR, E_TOO_LARGE, E_ENCODING.
 */
export async function readInput(file: string): Promise<string> {
  const name = file === "-" ? "standard input" : file;
  const bytes = file === "-" ? await readStdin() : readRegularFile(file);
  const r = decodeDocumentBytes(bytes);
  if (!r.ok) throw new UserError(`${name}: ${r.problems.map((p) => `${p.path} ${p.message}`).join("\n")}`, r.code);
  return r.text;
}
