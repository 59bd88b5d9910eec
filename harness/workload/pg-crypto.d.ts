// The part of node-postgres's SCRAM helpers scram.ts replaces (no types ship for it).
declare module "pg/lib/crypto/utils.js" {
  type Bytes = ArrayBuffer | Uint8Array;
  const utils: {
    deriveKey(password: string, salt: Uint8Array, iterations: number): Promise<ArrayBuffer>;
    hmacSha256(key: Bytes, message: string): Promise<ArrayBuffer>;
    sha256(data: Bytes | string): Promise<ArrayBuffer>;
  };
  export default utils;
}
