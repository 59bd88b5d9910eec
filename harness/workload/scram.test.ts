import { webcrypto } from "node:crypto";
import scram from "pg/lib/crypto/utils.js";
import { describe, expect, it } from "vitest";
import "./scram.ts";

const { subtle } = webcrypto;
const hex = (buffer: ArrayBuffer) => Buffer.from(buffer).toString("hex");

describe("scram", () => {
  it("derives the same salted password as Web Crypto, once per password, salt and rounds", async () => {
    const salt = Buffer.from("W22ZaJ0SNY7soEsUEjb6gQ==", "base64");
    const key = await subtle.importKey("raw", Buffer.from("pencil"), "PBKDF2", false, ["deriveBits"]);
    const expected = await subtle.deriveBits(
      { name: "PBKDF2", hash: "SHA-256", salt, iterations: 4096 },
      key,
      256,
    );
    const first = scram.deriveKey("pencil", salt, 4096);
    expect(scram.deriveKey("pencil", Buffer.from(salt), 4096)).toBe(first);
    expect(hex(await first)).toBe(hex(expected));
    expect(hex(await scram.deriveKey("pencil", salt, 4095))).not.toBe(hex(expected));
  });

  it("computes HMAC-SHA-256 and SHA-256 as Web Crypto does", async () => {
    const keyBytes = (await subtle.digest("SHA-256", Buffer.from("k"))) as ArrayBuffer;
    const key = await subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const mac = await subtle.sign("HMAC", key, Buffer.from("Client Key"));
    expect(hex(await scram.hmacSha256(keyBytes, "Client Key"))).toBe(hex(mac));
    expect(hex(await scram.sha256(mac))).toBe(hex(await subtle.digest("SHA-256", mac)));
  });
});
