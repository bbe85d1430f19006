import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { parseObjectOption } from '../../../src/objects/object-option.js';
import { QemuOptsError } from '../../../src/options/qemu-opts.js';

suite('parseObjectOption', () => {
  test("reads key=value with the type first, booleans in QEMU's spellings, a doubled comma as a comma", () => {
    assert.deepEqual(parseObjectOption('tls-creds-x509,id=tls0,dir=/etc/pki,endpoint=server,verify-peer=off,sanity-check=yes'), {
      'qom-type': 'tls-creds-x509',
      id: 'tls0',
      dir: '/etc/pki',
      endpoint: 'server',
      'verify-peer': false,
      'sanity-check': true,
    });
    assert.deepEqual(parseObjectOption('authz-simple,id=a0,identity=O=Example,,CN=client1'), { 'qom-type': 'authz-simple', id: 'a0', identity: 'O=Example,CN=client1' });
    assert.deepEqual(parseObjectOption('qom-type=authz-simple,id=a0,identity=x'), { 'qom-type': 'authz-simple', id: 'a0', identity: 'x' });
  });

  test("reads keyval's dotted keys as nested members and numbered ones as lists", () => {
    assert.deepEqual(
      parseObjectOption('authz-list,id=a0,policy=deny,rules.0.match=O=Example*,rules.0.policy=allow,rules.0.format=glob,rules.1.match=x,rules.1.policy=deny'),
      {
        'qom-type': 'authz-list',
        id: 'a0',
        policy: 'deny',
        rules: [
          { match: 'O=Example*', policy: 'allow', format: 'glob' },
          { match: 'x', policy: 'deny' },
        ],
      },
    );
  });

  test('reads JSON', () => {
    assert.deepEqual(parseObjectOption('{"qom-type":"authz-list","id":"a0","rules":[{"match":"x","policy":"allow"}]}'), {
      'qom-type': 'authz-list',
      id: 'a0',
      rules: [{ match: 'x', policy: 'allow' }],
    });
  });

  test("refuses in QEMU 7.2's words", () => {
    const cases: [string, string][] = [
      ['tls-creds-x509,id=x,dir=/tmp,verify-peer=maybe', "Parameter 'verify-peer' expects 'on' or 'off'"],
      ['authz-simple,id=a', "Parameter 'identity' is missing"],
      ['bogus,id=a', "Parameter 'qom-type' does not accept value 'bogus'"],
      ['{"qom-type":"authz-list","id":"l","rules":[{"match":"x"}]}', "Parameter 'rules[0].policy' is missing"],
      ['authz-simple,identity=x', "Parameter 'id' is missing"],
      [',id=a', "Invalid parameter ''"],
      ['authz-simple,id=a,identity=x,1x=2', "Invalid parameter '1x'"],
      ['authz-list,id=a,rules.0.1x=a', "Invalid parameter 'rules.0.1x'"],
    ];
    for (const [text, message] of cases) assert.throws(() => parseObjectOption(text), new QemuOptsError(message), text);
  });

  test('refuses JSON that is not an object, and text that is no JSON', () => {
    assert.throws(() => parseObjectOption('{"qom-type":'), QemuOptsError);
    assert.throws(() => parseObjectOption('authz-simple,id=a,identity'), new QemuOptsError("Expected '=' after parameter 'identity'"));
  });
});
