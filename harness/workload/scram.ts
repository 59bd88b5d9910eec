/**
 * node-postgres's SCRAM-SHA-256 client made cheap, without changing a byte on the wire.
 *
 * Every harness connection authenticates (writers reconnecting through an outage open hundreds per
 * second, each to a replica that answers in full). node-postgres derives the salted password with
 * PBKDF2 (4096 rounds by default) on every connect and does each HMAC through Web Crypto, whose
 * per-call overhead outweighs the hash itself: measured, SCRAM was the largest single CPU cost of
 * a kill-primary run. PBKDF2 is a pure function of password, salt and rounds, and a role's salt is
 * the same on every node (pg_authid is replicated), so one derivation serves the whole run; the
 * HMACs go through node:crypto directly. The messages exchanged are exactly the same.
 */
import { createHash, createHmac } from "node:crypto";
import scram from "pg/lib/crypto/utils.js";

type Bytes = ArrayBuffer | Uint8Array;

const derived = new Map<string, Promise<ArrayBuffer>>();
const deriveKey = scram.deriveKey;

if (typeof deriveKey === "function" && typeof scram.hmacSha256 === "function") {
  scram.deriveKey = (password, salt, iterations) => {
    const key = `${iterations}:${Buffer.from(salt).toString("base64")}:${password}`;
    let found = derived.get(key);
    if (!found) {
      found = deriveKey(password, salt, iterations);
      found.catch(() => derived.delete(key));
      derived.set(key, found);
    }
    return found;
  };
  scram.hmacSha256 = async (key, message) =>
    toArrayBuffer(createHmac("sha256", bytes(key)).update(message).digest());
  scram.sha256 = async (data) => toArrayBuffer(createHash("sha256").update(bytes(data)).digest());
}

function bytes(data: Bytes | string): Uint8Array | string {
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}

function toArrayBuffer(buffer: Buffer): ArrayBuffer {
  return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer;
}
