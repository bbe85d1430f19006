import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { parseWebOption, webConfig, WebOptionError } from '../../../src/web/web-option.js';

suite('parseWebOption', () => {
  test('reads HOST:PORT, :PORT on loopback, [IPV6]:PORT, unix:PATH and a bare path', () => {
    assert.deepEqual(parseWebOption('0.0.0.0:8080').listen, { type: 'inet', host: '0.0.0.0', port: 8080 });
    assert.deepEqual(parseWebOption(':8080').listen, { type: 'inet', host: '127.0.0.1', port: 8080 });
    assert.deepEqual(parseWebOption('[::1]:0').listen, { type: 'inet', host: '::1', port: 0 });
    assert.deepEqual(parseWebOption('unix:web.sock').listen, { type: 'unix', path: 'web.sock' });
    assert.deepEqual(parseWebOption('./web.sock').listen, { type: 'unix', path: './web.sock' });
  });

  test('reads a token and any number of origins', () => {
    const config = parseWebOption('unix:w.sock,token=0123456789abcdef,origin=https://a.example,origin=http://b.example:8080');
    assert.equal(config.token, '0123456789abcdef');
    assert.deepEqual(config.origins, ['https://a.example', 'http://b.example:8080']);
  });

  test('refuses a bad address, an unknown parameter, a short or odd token and an origin with a path', () => {
    for (const [text, message] of [
      ['8080', "'8080' is no web address: give HOST:PORT, :PORT (127.0.0.1) or unix:PATH"],
      ['host:99999', "'host:99999' is no web address: give HOST:PORT, :PORT (127.0.0.1) or unix:PATH"],
      ['unix:', 'unix: needs a path'],
      [':80,user=x', "Invalid parameter 'user' (the parameters are token, origin and perm)"],
      [':80,token=short', 'token must be 16 to 256 letters, digits or the characters . _ ~ -'],
      [':80,token=0123456789abcdef 0', 'token must be 16 to 256 letters, digits or the characters . _ ~ -'],
      [':80,origin=https://a.example/page', "'https://a.example/page' is no origin (such as https://console.example.com): scheme, host and port only"],
      [':80,origin=nothing', "'nothing' is no origin (such as https://console.example.com)"],
    ] as const) {
      assert.throws(
        () => parseWebOption(text),
        (error: unknown) => error instanceof WebOptionError && error.message === message,
        text,
      );
    }
  });

  test("perm= sets a unix socket's bits, checked as -qmp checks it", () => {
    assert.deepEqual(parseWebOption('unix:w.sock,perm=0660').listen, { type: 'unix', path: 'w.sock', perm: 0o660 });
    assert.throws(() => parseWebOption('unix:w.sock,perm=999'), /expects octal permission bits from 0 to 0777/);
    assert.throws(() => parseWebOption(':8080,perm=0660'), /for a unix socket only/);
  });

  test("the config file's object form is checked as the option's parts are", () => {
    assert.deepEqual(webConfig({ listen: '127.0.0.1:0', origins: ['https://c.example'] }).origins, ['https://c.example']);
    assert.throws(() => webConfig({ listen: 'x' }), WebOptionError);
  });
});
