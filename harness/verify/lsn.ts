/** PostgreSQL WAL positions ("pg_lsn"): text "HI/LO" in hex, meaning (HI << 32) | LO. */

const LSN_TEXT = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;
const MAX_LSN = (1n << 64n) - 1n;

export function parseLsn(text: string): bigint {
  const match = LSN_TEXT.exec(text);
  const hi = match?.[1];
  const lo = match?.[2];
  if (hi === undefined || lo === undefined) {
    throw new Error(`malformed LSN ${JSON.stringify(text)}: expected "<hex>/<hex>", e.g. "0/5030E50"`);
  }
  return (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`);
}

/** Same spelling as PostgreSQL's pg_lsn output: upper-case hex, no padding. */
export function formatLsn(lsn: bigint): string {
  if (lsn < 0n || lsn > MAX_LSN) {
    throw new Error(`LSN ${lsn} is outside the 64-bit range of a WAL position`);
  }
  const hi = (lsn >> 32n).toString(16).toUpperCase();
  const lo = (lsn & 0xffffffffn).toString(16).toUpperCase();
  return `${hi}/${lo}`;
}

/** Bytes of WAL from b to a (a − b); negative when a is behind b. */
export function lsnDiff(a: string | bigint, b: string | bigint): number {
  const left = typeof a === "bigint" ? a : parseLsn(a);
  const right = typeof b === "bigint" ? b : parseLsn(b);
  return Number(left - right);
}
