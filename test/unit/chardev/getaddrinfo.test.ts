import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { resolutionError, servicePort } from '../../../src/chardev/getaddrinfo.js';

/** A services database in /etc/services' format, with the quirks glibc's files source reads. */
const SERVICES = [
  '# Network services, Internet style',
  'tcpmux\t\t1/tcp\t\t\t\t# TCP port service multiplexer',
  'echo\t\t7/tcp',
  'echo\t\t7/udp',
  'http\t\t80/tcp\t\twww\t\t# WorldWideWeb HTTP',
  '  syslog 514/udp',
  'first 1000/tcp',
  'first 1001/tcp',
  'wrapped 65617/tcp',
  'noslash 2000',
  'junk 2001x/tcp',
  'spaced 2002/ tcp',
  '#commented 2003/tcp',
  'crlf 2004/tcp alias-crlf\r',
].join('\n');
const services = (): string => SERVICES;
const tcp = (service: string): number | undefined => servicePort(service, 'tcp', services);

suite("getaddrinfo's service (glibc 2.36)", () => {
  /**
   * Each result as glibc's getaddrinfo gives it for SOCK_STREAM (and
   * QEMU 7.2 for chardev-add): strtoul in base 10 into an int, the whole
   * string consumed, then 16 bits; otherwise a name.
   */
  const numbers: readonly [string, number | undefined][] = [
    ['80', 80],
    ['00083', 83],
    [' 80', 80],
    ['\t\v\f\r\n80', 80],
    ['+80', 80],
    ['-0', 0],
    ['', 0],
    ['65535', 65535],
    ['65536', 0],
    ['99999', 34463],
    ['2147483647', 65535],
    ['4294967296', 0],
    ['-4294967213', 83],
    ['-18446744073709551615', 1],
    // An int below zero is looked up as a name, which no database has.
    ['-1', undefined],
    ['2147483648', undefined],
    ['4294967295', undefined],
    ['18446744073709551615', undefined],
    ['99999999999999999999999', undefined],
    ['-99999999999999999999999', undefined],
    // Not consumed whole: a name.
    ['80 ', undefined],
    ['1 2', undefined],
    [' ', undefined],
    ['+', undefined],
    ['- 1', undefined],
    ['0x10', undefined],
    ['1e3', undefined],
    ['\u0663', undefined],
    ['\u00a080', undefined],
  ];

  for (const [service, port] of numbers) {
    test(`${JSON.stringify(service)} is ${port ?? 'EAI_SERVICE'}`, () => assert.equal(tcp(service), port));
  }

  test("names and aliases are looked up for the socket's protocol, the first line winning", () => {
    assert.equal(tcp('http'), 80);
    assert.equal(tcp('www'), 80);
    assert.equal(tcp('HTTP'), undefined, 'names are compared exactly');
    assert.equal(tcp('tcpmux'), 1);
    assert.equal(tcp('first'), 1000);
    assert.equal(tcp('syslog'), undefined, 'udp only');
    assert.equal(servicePort('syslog', 'udp', services), 514);
    assert.equal(servicePort('http', 'udp', services), undefined, 'tcp only');
    assert.equal(servicePort('echo', 'udp', services), 7);
  });

  test('reads each line as nss_files does: comments cut, white space between fields, the port in 16 bits', () => {
    assert.equal(tcp('wrapped'), 81);
    assert.equal(tcp('noslash'), undefined);
    assert.equal(tcp('junk'), undefined);
    assert.equal(tcp('spaced'), undefined, "'2002/ tcp' has an empty protocol");
    assert.equal(tcp('tcp'), undefined, "not even as the alias 'tcp' of a line with an empty protocol");
    assert.equal(tcp('commented'), undefined);
    assert.equal(tcp('#'), undefined);
    assert.equal(tcp('crlf'), 2004);
    assert.equal(tcp('alias-crlf'), 2004);
  });

  test('a number needs no database, a name fails without one', () => {
    const none = (): string => '';
    assert.equal(servicePort('99999', 'tcp', none), 34463);
    assert.equal(servicePort('http', 'tcp', none), undefined);
  });

  test("QEMU's text for a failed lookup, in glibc's words", () => {
    assert.equal(resolutionError('127.0.0.1', 'abc', 'EAI_SERVICE').message, 'address resolution failed for 127.0.0.1:abc: Servname not supported for ai_socktype');
    assert.equal(resolutionError('', '', 'EAI_NONAME').message, 'address resolution failed for :: Name or service not known');
    assert.equal(resolutionError('x.invalid', '80', 'ENOTFOUND').message, 'address resolution failed for x.invalid:80: Name or service not known');
    assert.equal(resolutionError('h', '1', 'EAI_AGAIN').message, 'address resolution failed for h:1: Temporary failure in name resolution');
  });
});
