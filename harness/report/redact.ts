/** Masks secrets in settings before any reporter prints them: reports end up in CI artifacts. */

export const MASK = "********";

/** Key names whose values are credentials, e.g. `password`, `superuser_password`, `api_key`, `secret`. */
const SECRET_KEY = /passw|pass$|pwd|secret|token|credential|private.?key|api.?key/i;

/** `scheme://user:password@host` — the password part of a connection URI. */
const URI_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]*@/gi;
/** `password=...` inside a libpq keyword/value connection string. */
const KV_PASSWORD = /(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)/gi;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** Masks credentials embedded in a string value (connection strings). */
export function maskString(s: string): string {
  return s.replace(URI_PASSWORD, `$1${MASK}@`).replace(KV_PASSWORD, `$1${MASK}`);
}

/** Returns a deep copy with secret-named keys masked; null stays null so "not set" remains visible. */
export function maskSecrets(value: unknown): unknown {
  if (typeof value === "string") return maskString(value);
  if (Array.isArray(value)) return value.map(maskSecrets);
  if (value !== null && typeof value === "object") return maskSettings(value);
  return value;
}

export function maskSettings(settings: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(settings)) {
    out[k] = isSecretKey(k) && v !== null && v !== undefined ? MASK : maskSecrets(v);
  }
  return out;
}

/**
 * `password: x`, `"api_key": "x"`, `PGPASSWORD=x`: a secret-named key followed by its value, as it
 * appears in YAML, JSON, logs and environment dumps. Quoted values are masked whole.
 */
const KEYED_SECRET =
  /(["']?\b[\w.-]*(?:passw|pwd|secret|token|credential|private.?key|api.?key)[\w.-]*["']?[ \t]*[:=][ \t]*)("(?:[^"\\]|\\.)*"|'[^'\n]*'|[^\s,;}\]]+)/gi;

/**
 * Masks credentials in free text (scenario source, node log lines). Over-masking is the safe
 * side here: a masked `password_encryption = scram-sha-256` costs nothing, a leaked password does.
 */
export function maskText(s: string): string {
  return maskString(s).replace(KEYED_SECRET, (_, key: string, value: string) =>
    value === MASK || value === `"${MASK}"` ? `${key}${value}` : `${key}${MASK}`,
  );
}
