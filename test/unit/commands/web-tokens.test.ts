import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { WEB_TOKEN_LIMIT, WEB_TOKEN_MAX_EXPIRY, WebTokenError, WebTokens } from '../../../src/commands/web-tokens.js';

suite('WebTokens', () => {
  test('a made token allows writing until it expires, then no more', () => {
    let now = 1_000_000;
    const tokens = new WebTokens(undefined, () => now);
    const { token, expires } = tokens.add(60);
    assert.match(token, /^[0-9a-f]{32}$/);
    assert.equal(expires, 1_000 + 60);
    assert.equal(tokens.allows(token), true);
    now += 59_999;
    assert.equal(tokens.allows(token), true);
    now += 1;
    assert.equal(tokens.allows(token), false);
  });

  test('the configured token always allows; other strings, empty or absent ones never do', () => {
    const tokens = new WebTokens('s3cret');
    assert.equal(tokens.allows('s3cret'), true);
    assert.equal(tokens.allows('s3cre'), false);
    assert.equal(tokens.allows(''), false);
    assert.equal(tokens.allows(undefined), false);
    assert.equal(new WebTokens().allows('s3cret'), false);
  });

  test('an expiry out of range is refused with a stable code', () => {
    const tokens = new WebTokens();
    for (const expiry of [0, -1, WEB_TOKEN_MAX_EXPIRY + 1, 1.5]) {
      assert.throws(
        () => tokens.add(expiry),
        (error: unknown) => error instanceof WebTokenError && error.code === 'WEB_TOKEN_INVALID',
      );
    }
  });

  test('beyond the limit the oldest token goes', () => {
    const tokens = new WebTokens();
    const first = tokens.add().token;
    for (let i = 0; i < WEB_TOKEN_LIMIT; i++) tokens.add();
    assert.equal(tokens.allows(first), false);
  });
});
