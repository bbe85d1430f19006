import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { AuthzList, globMatches } from '../../../src/objects/authz-list.js';
import { AuthzSimple } from '../../../src/objects/authz-simple.js';

suite('globMatches', () => {
  test('matches as g_pattern_match_simple: * any run, ? any one character, nothing else special', () => {
    const cases: [string, string, boolean][] = [
      ['*', '', true],
      ['*', 'O=Example,CN=client1', true],
      ['O=Example,CN=*', 'O=Example,CN=client1', true],
      ['O=Example,CN=*', 'O=Other,CN=client1', false],
      ['*CN=client?', 'O=Example,CN=client1', true],
      ['*CN=client?', 'O=Example,CN=client12', false],
      ['a*b*c', 'aXXbYYbZc', true],
      ['a*b*c', 'aXXbYYbZ', false],
      ['[ab]', 'a', false],
      ['[ab]', '[ab]', true],
      ['\\*', '\\anything', true],
      ['?', 'é', true],
      ['', '', true],
      ['', 'x', false],
    ];
    for (const [pattern, text, expected] of cases) assert.equal(globMatches(pattern, text), expected, `${pattern} ~ ${text}`);
  });

  test('stays linear on a pattern of many stars', () => {
    assert.equal(globMatches(`${'*a'.repeat(200)}b`, 'a'.repeat(5000)), false);
  });
});

suite('AuthzList', () => {
  test('the first matching rule decides; without one the policy does, deny by default', () => {
    const list = new AuthzList({
      rules: [
        { match: 'O=Example,CN=admin', policy: 'deny' },
        { match: 'O=Example,CN=*', policy: 'allow', format: 'glob' },
      ],
    });
    assert.equal(list.isAllowed('O=Example,CN=client1'), true);
    assert.equal(list.isAllowed('O=Example,CN=admin'), false);
    assert.equal(list.isAllowed('O=Other,CN=client1'), false);
    assert.equal(new AuthzList({ policy: 'allow', rules: [{ match: 'x', policy: 'deny' }] }).isAllowed('y'), true);
    assert.equal(new AuthzList({}).isAllowed('anything'), false);
  });

  test('an exact rule is not a glob', () => {
    assert.equal(new AuthzList({ rules: [{ match: 'CN=*', policy: 'allow' }] }).isAllowed('CN=x'), false);
  });
});

suite('AuthzSimple', () => {
  test('allows exactly its identity', () => {
    const simple = new AuthzSimple({ identity: 'O=Example,CN=client1' });
    assert.equal(simple.isAllowed('O=Example,CN=client1'), true);
    assert.equal(simple.isAllowed('O=Example,CN=client10'), false);
  });
});
