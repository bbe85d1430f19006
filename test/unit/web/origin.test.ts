import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { hostAllowed, originAllowed } from '../../../src/web/origin.js';

suite('hostAllowed', () => {
  test('takes IP addresses and localhost with any port, and the hosts of allowed origins', () => {
    for (const host of ['127.0.0.1:8080', '127.0.0.1', '[::1]:8080', '192.0.2.7:80', 'localhost:8080', 'LOCALHOST']) assert.equal(hostAllowed(host, []), true, host);
    assert.equal(hostAllowed('console.example.com', ['https://console.example.com']), true);
  });

  test('refuses other names (a rebinding site), and a missing Host', () => {
    assert.equal(hostAllowed('evil.example:8080', []), false);
    assert.equal(hostAllowed('console.example.com:8443', ['https://console.example.com']), false);
    assert.equal(hostAllowed(undefined, []), false);
    assert.equal(hostAllowed('', []), false);
  });
});

suite('originAllowed', () => {
  test("takes the page's own origin over http or https, an allowed origin, and no Origin (a program)", () => {
    assert.equal(originAllowed('http://127.0.0.1:8080', '127.0.0.1:8080', []), true);
    assert.equal(originAllowed('https://console.example.com', 'console.example.com', []), true);
    assert.equal(originAllowed('https://app.example', '127.0.0.1:8080', ['https://app.example']), true);
    assert.equal(originAllowed(undefined, '127.0.0.1:8080', []), true);
  });

  test('refuses another origin, another port, "null" and other schemes', () => {
    assert.equal(originAllowed('http://evil.example', '127.0.0.1:8080', []), false);
    assert.equal(originAllowed('http://127.0.0.1:9090', '127.0.0.1:8080', []), false);
    assert.equal(originAllowed('null', '127.0.0.1:8080', []), false);
    assert.equal(originAllowed('file://127.0.0.1:8080', '127.0.0.1:8080', []), false);
  });
});
