/**
 * The base of every error chardevd raises on purpose. `code` names the kind
 * of failure and never changes between releases, so programs branch on it;
 * the message follows QEMU's wording where QEMU has one, and may change with
 * it. Codes are upper snake case, prefixed with their area
 * (`CHARDEV_FAILED`, `QEMU_OPTS_INVALID`).
 */
export abstract class ChardevdError extends Error {
  abstract readonly code: string;
}
