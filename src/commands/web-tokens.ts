import { ChardevdError } from '../base/error.js';

/** node:crypto, loaded on first use (see WebTokens). */
const crypto = () => process.getBuiltinModule('node:crypto');

/** How long a token made by web-token-add lasts when no expiry is given, in seconds. */
export const WEB_TOKEN_DEFAULT_EXPIRY = 3600;

/** The longest expiry web-token-add accepts, in seconds (a week). */
export const WEB_TOKEN_MAX_EXPIRY = 7 * 24 * 3600;

/** The most tokens kept at once; the oldest goes when another is made. */
export const WEB_TOKEN_LIMIT = 1024;

/** A token request the store refuses (an expiry out of range). */
export class WebTokenError extends ChardevdError {
  override readonly name = 'WebTokenError';
  readonly code = 'WEB_TOKEN_INVALID';
}

/**
 * The tokens that let a web viewer write: the configured one (`-web
 * ...,token=`), which never expires, and those web-token-add makes, each
 * with its expiry. Only their SHA-256 digests are kept, and a presented
 * token is compared digest to digest in constant time. node:crypto is
 * loaded when a token is first made or presented, not at start-up.
 */
export class WebTokens {
  readonly #configured: Buffer | undefined;
  /** Digest (hex) -> expiry in ms since the epoch, oldest first. */
  readonly #minted = new Map<string, number>();

  constructor(
    configured?: string,
    private readonly now: () => number = Date.now,
  ) {
    this.#configured = configured === undefined ? undefined : digest(configured);
  }

  /** Makes a token valid for `expiry` seconds. */
  add(expiry = WEB_TOKEN_DEFAULT_EXPIRY): { token: string; expires: number } {
    if (!Number.isSafeInteger(expiry) || expiry < 1 || expiry > WEB_TOKEN_MAX_EXPIRY) {
      throw new WebTokenError(`Parameter 'expiry' must be between 1 and ${WEB_TOKEN_MAX_EXPIRY} seconds`);
    }
    this.#expire();
    if (this.#minted.size >= WEB_TOKEN_LIMIT) this.#minted.delete(this.#minted.keys().next().value!);
    const token = crypto().randomBytes(16).toString('hex');
    const expiresMs = this.now() + expiry * 1000;
    this.#minted.set(digest(token).toString('hex'), expiresMs);
    return { token, expires: Math.floor(expiresMs / 1000) };
  }

  /** Whether `token` lets its holder write now. */
  allows(token: string | undefined): boolean {
    if (token === undefined || token.length === 0) return false;
    const presented = digest(token);
    if (this.#configured !== undefined && crypto().timingSafeEqual(presented, this.#configured)) return true;
    const expires = this.#minted.get(presented.toString('hex'));
    return expires !== undefined && expires > this.now();
  }

  #expire(): void {
    const now = this.now();
    for (const [key, expires] of this.#minted) if (expires <= now) this.#minted.delete(key);
  }
}

function digest(token: string): Buffer {
  return crypto().createHash('sha256').update(token).digest();
}
