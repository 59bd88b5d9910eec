/**
 * Bad input or an unusable environment: the CLI prints the one-line message and exits 2.
 * Everything else that goes wrong in a run is recorded as a problem and fails the verdict (exit 1).
 */
export class UsageError extends Error {
  override name = "UsageError";
}
