import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite, test } from 'node:test';
import { type DaemonArgs, nothingToServe, parseDaemonArgs, UsageError } from '../../../src/cli/daemon-args.js';
import type { StartupChardev } from '../../../src/daemon/config-chardev.js';
import { ConfigError } from '../../../src/daemon/config.js';

const quiet = (): void => {};

suite('parseDaemonArgs', () => {
  test('takes -qmp and --qmp, repeated, with separate or attached values', () => {
    const args = parseDaemonArgs(['-qmp', 'unix:/a,server=on,wait=off', '--qmp=tcp:127.0.0.1:0,server=on,wait=off', '-qmp-pretty', 'unix:/b,server=on,wait=off'], quiet);
    assert.equal(args.action, 'run');
    if (args.action !== 'run') return;
    assert.deepEqual(
      args.qmp.map((q) => [q.option.address.type, q.pretty]),
      [
        ['unix', false],
        ['inet', false],
        ['unix', true],
      ],
    );
  });

  test('takes -monitor listeners and monitors on chardevs from -monitor chardev:ID and -mon', () => {
    const args = parseDaemonArgs(['-monitor', 'unix:/m,server=on,wait=off', '-monitor', 'chardev:c0', '-mon', 'chardev=c1,mode=readline'], quiet);
    assert.equal(args.action, 'run');
    if (args.action !== 'run') return;
    assert.deepEqual(
      args.monitors.map((m) => [m.origin, m.target.type === 'chardev' ? m.target.id : m.target.option.address.type]),
      [
        ['-monitor unix:/m,server=on,wait=off', 'unix'],
        ['-monitor chardev:c0', 'c0'],
        ['-mon chardev=c1,mode=readline', 'c1'],
      ],
    );
    assert.throws(() => parseDaemonArgs(['-mon', 'c1,mode=bogus'], quiet), new UsageError("-mon c1,mode=bogus: Parameter 'mode' does not accept value 'bogus'"));
  });

  test('answers help and version', () => {
    assert.deepEqual(parseDaemonArgs(['--help'], quiet), { action: 'help' });
    assert.deepEqual(parseDaemonArgs(['-version'], quiet), { action: 'version' });
  });

  test('names the option and its value in a parse error, as QEMU does', () => {
    assert.throws(
      () => parseDaemonArgs(['-qmp', 'unix:/a,server=on,bogus=1'], quiet),
      new UsageError("-qmp unix:/a,server=on,bogus=1: Invalid parameter 'bogus'\n-qmp unix:/a,server=on,bogus=1: parse error: unix:/a,server=on,bogus=1"),
    );
  });

  test('makes a chardev compat_monitorN for -qmp and -monitor in legacy syntax, counting every one as QEMU does', () => {
    const args = parseDaemonArgs(
      [
        '-qmp',
        'unix:/q,server=on,wait=off',
        '-monitor',
        'chardev:c0',
        '-qmp',
        'unix:/mgr',
        '-monitor',
        'none',
        '-monitor',
        'stdio',
        '-qmp-pretty',
        'telnet::4555,server=on,wait=off',
      ],
      quiet,
    );
    assert.equal(args.action, 'run');
    if (args.action !== 'run') return;
    assert.deepEqual(
      args.chardevs.map((c) => (c.form === 'option' ? [c.origin, c.text] : [])),
      [
        ['-qmp unix:/mgr', 'socket,id=compat_monitor2,path=/mgr'],
        ['-monitor stdio', 'stdio,id=compat_monitor3'],
        ['-qmp-pretty telnet::4555,server=on,wait=off', 'socket,id=compat_monitor4,host=,port=4555,server=on,wait=off,telnet=on'],
      ],
    );
    assert.deepEqual(
      args.monitors.map((m) => m.target),
      [
        { type: 'chardev', id: 'c0', mode: 'readline', pretty: false },
        { type: 'chardev', id: 'compat_monitor2', mode: 'control', pretty: false },
        { type: 'chardev', id: 'compat_monitor3', mode: 'readline', pretty: false },
        { type: 'chardev', id: 'compat_monitor4', mode: 'control', pretty: true },
      ],
    );
    // A plain unix or TCP server stays one of chardevd's listeners.
    assert.deepEqual(
      args.qmp.map((q) => q.option.address),
      [{ type: 'unix', path: '/q' }],
    );
  });

  test('takes -echr as QEMU reads it: a C number cut to an int, "Bad argument to echr" and NUL when there is none', () => {
    const escapeOf = (text: string): { escape: number | undefined; said: string[] } => {
      const said: string[] = [];
      const args = parseDaemonArgs(['-echr', text], quiet, (line) => said.push(line));
      return { escape: args.action === 'run' ? args.muxEscapeChar : -2, said };
    };
    assert.deepEqual(escapeOf('20'), { escape: 20, said: [] });
    assert.deepEqual(escapeOf('0x1d'), { escape: 0x1d, said: [] });
    assert.deepEqual(escapeOf('300'), { escape: 300, said: [] });
    // strtol's long becomes QEMU's int: 2^32 + 1 is Ctrl-A again, LONG_MAX is -1.
    assert.deepEqual(escapeOf('4294967297'), { escape: 1, said: [] });
    assert.deepEqual(escapeOf('99999999999999999999'), { escape: -1, said: [] });
    assert.deepEqual(escapeOf('ctrl-t'), { escape: 0, said: ['Bad argument to echr'] });
    const plain = parseDaemonArgs([], quiet);
    assert.equal(plain.action === 'run' && plain.muxEscapeChar, undefined);
  });

  test('nothingToServe: a run without listeners, chardevs or devices serves nothing; -qmp stdio and -monitor count', () => {
    const run = (argv: string[]): DaemonArgs & { action: 'run' } => {
      const args = parseDaemonArgs(argv, quiet);
      assert.equal(args.action, 'run');
      return args;
    };
    const message = 'nothing to serve: give -qmp, -monitor, -mon, -chardev, -web or -config FILE (chardevd --help lists them)';
    for (const argv of [[], ['-echr', '20'], ['-monitor', 'none']]) assert.equal(nothingToServe(run(argv)), message, argv.join(' '));
    for (const argv of [
      ['-qmp', 'stdio'],
      ['-qmp', 'unix:/q,server=on,wait=off'],
      ['-monitor', 'stdio'],
      ['-mon', 'c'],
      ['-chardev', 'null,id=n'],
      ['-device', 'link,id=l0'],
    ]) {
      assert.equal(nothingToServe(run(argv)), undefined, argv.join(' '));
    }
  });

  test('takes -config-save FILE, the last one given counting, and keeps each listener as given for query-config', () => {
    const args = parseDaemonArgs(['--config-save', 'a.yaml', '-qmp', 'unix:q.sock,server,nowait', '-monitor', 'tcp::0,server=on,wait=off', '-config-save=b.yaml'], quiet);
    assert.equal(args.action, 'run');
    if (args.action !== 'run') return;
    assert.equal(args.configSave, 'b.yaml');
    assert.deepEqual(
      [...args.qmp.map((q) => q.text), ...args.monitors.map((m) => m.target.type === 'listener' && m.target.text)],
      ['unix:q.sock,server,nowait', 'tcp::0,server=on,wait=off'],
    );
    const plain = parseDaemonArgs([], quiet);
    assert.equal(plain.action === 'run' && plain.configSave, undefined);
    assert.throws(() => parseDaemonArgs(['-config-save'], quiet), new UsageError('-config-save: requires an argument'));
  });

  test('refuses unknown options and missing values', () => {
    assert.throws(() => parseDaemonArgs(['-foo'], quiet), new UsageError('-foo: invalid option'));
    assert.throws(() => parseDaemonArgs(['-qmp'], quiet), new UsageError('-qmp: requires an argument'));
  });
});

/** Runs parseDaemonArgs, collecting what it prints as warnings. */
function parseWithWarnings(argv: readonly string[]): { args: DaemonArgs; warnings: string[] } {
  const warnings: string[] = [];
  return { args: parseDaemonArgs(argv, (w) => warnings.push(w)), warnings };
}

/** The chardevs of a 'run' answer. */
function chardevsOf(args: DaemonArgs): readonly StartupChardev[] {
  assert.equal(args.action, 'run');
  return args.action === 'run' ? args.chardevs : [];
}

suite('parseDaemonArgs: -chardev', () => {
  test('takes -chardev any number of times, keeping the command-line order', () => {
    const args = parseDaemonArgs(['-chardev', 'ringbuf,id=a', '--chardev', 'null,id=b', '--chardev=file,id=c,path=c.log'], quiet);
    assert.deepEqual(chardevsOf(args), [
      { form: 'option', origin: '-chardev ringbuf,id=a', text: 'ringbuf,id=a', id: 'a', checkedWarnings: 0 },
      { form: 'option', origin: '-chardev null,id=b', text: 'null,id=b', id: 'b', checkedWarnings: 0 },
      { form: 'option', origin: '-chardev file,id=c,path=c.log', text: 'file,id=c,path=c.log', id: 'c', checkedWarnings: 0 },
    ]);
  });

  test('refuses a bad option at once with QEMU\'s text after "-chardev TEXT: "', () => {
    assert.throws(() => parseDaemonArgs(['-chardev', 'ringbuf,id=a,bogus=1'], quiet), new UsageError("-chardev ringbuf,id=a,bogus=1: Invalid parameter 'bogus'"));
    assert.throws(
      () => parseDaemonArgs(['-chardev', 'ringbuf,id=1x'], quiet),
      new UsageError("-chardev ringbuf,id=1x: Parameter 'id' expects an identifier\nIdentifiers consist of letters, digits, '-', '.', '_', starting with a letter."),
    );
  });

  test("prints QEMU's warnings with the option they are about, before an error", () => {
    const warnings: string[] = [];
    assert.throws(
      () => parseDaemonArgs(['-chardev', 'null,id=a,server', '-chardev', 'ringbuf,id=x,size=0x1k,bogus=2'], (w) => warnings.push(w)),
      new UsageError("-chardev ringbuf,id=x,size=0x1k,bogus=2: Invalid parameter 'bogus'"),
    );
    assert.deepEqual(warnings, [
      "-chardev null,id=a,server: warning: short-form boolean option 'server' deprecated\nPlease use server=on instead",
      '-chardev ringbuf,id=x,size=0x1k,bogus=2: warning: Using a multiplier suffix on hex numbers is deprecated: 0x1k',
    ]);
  });

  test("refuses a duplicate id as QEMU does, without the duplicate's warnings", () => {
    const warnings: string[] = [];
    assert.throws(
      () => parseDaemonArgs(['-chardev', 'null,id=x', '-chardev', 'null,id=x,server'], (w) => warnings.push(w)),
      new UsageError("-chardev null,id=x,server: Duplicate ID 'x' for chardev"),
    );
    assert.deepEqual(warnings, []);
  });

  test('leaves a missing id, an unknown backend and backend options for creation time, as QEMU does', () => {
    const { args, warnings } = parseWithWarnings(['-chardev', 'null', '-chardev', 'bogus,id=b', '-chardev', 'tty,id=t', '-chardev', 'help']);
    assert.deepEqual(
      chardevsOf(args).map((c) => c.id),
      [undefined, 'b', 't', undefined],
    );
    // The alias warning belongs to creation time too.
    assert.deepEqual(warnings, []);
  });

  test('answers BACKEND,help with the option list and exit status 1, as QEMU does', () => {
    const args = parseDaemonArgs(['-chardev', 'ringbuf,id=a', '-chardev', 'ringbuf,help', '-chardev', 'bogus=1'], quiet);
    assert.equal(args.action, 'print');
    if (args.action !== 'print') return;
    assert.equal(args.exitStatus, 1);
    assert.match(args.text, /^chardev options:\n {2}abstract=<bool \(on\/off\)>\n/);
    assert.match(args.text, /\n {2}size=<size>\n/);
    assert.ok(args.text.endsWith('\n'));
  });

  test('takes mux=on', () => {
    const args = parseDaemonArgs(['-chardev', 'stdio,id=s,mux=on'], quiet);
    assert.equal(args.action === 'run' && args.chardevs[0]?.id, 's');
  });

  test('requires a value', () => {
    assert.throws(() => parseDaemonArgs(['-chardev'], quiet), new UsageError('-chardev: requires an argument'));
  });
});

suite('parseDaemonArgs: --config', () => {
  /** Runs `body` with config files written in a fresh directory, then removes it. */
  function withFiles(files: { [name: string]: string }, body: (path: (name: string) => string) => void): void {
    const dir = mkdtempSync(join(tmpdir(), 'chardevd-args-'));
    try {
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
      body((name) => join(dir, name));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  test('puts the config first, then the command line, wherever --config stands', () => {
    withFiles({ 'c.yaml': 'qmp: [ "unix:from-config.sock,server=on,wait=off" ]\nchardevs:\n  - ringbuf,id=cfg\n' }, (path) => {
      for (const spelling of [['--config', path('c.yaml')], ['-config', path('c.yaml')], [`--config=${path('c.yaml')}`]]) {
        const args = parseDaemonArgs(['-qmp', 'unix:from-cli.sock,server=on,wait=off', '-chardev', 'null,id=cli', ...spelling], quiet);
        assert.equal(args.action, 'run');
        if (args.action !== 'run') return;
        assert.deepEqual(
          args.qmp.map((q) => q.option.address),
          [
            { type: 'unix', path: 'from-config.sock' },
            { type: 'unix', path: 'from-cli.sock' },
          ],
        );
        assert.deepEqual(
          args.chardevs.map((c) => [c.id, c.origin]),
          [
            ['cfg', `${path('c.yaml')}:3: chardevs[0] (id 'cfg')`],
            ['cli', '-chardev null,id=cli'],
          ],
        );
      }
    });
  });

  test('reads several config files in order', () => {
    withFiles({ 'a.yaml': 'chardevs: [ "null,id=a" ]\n', 'b.yaml': 'chardevs: [ "null,id=b" ]\n' }, (path) => {
      const args = parseDaemonArgs(['--config', path('a.yaml'), '--config', path('b.yaml')], quiet);
      assert.deepEqual(
        chardevsOf(args).map((c) => c.id),
        ['a', 'b'],
      );
    });
  });

  test('refuses an id that the config already defines, naming where', () => {
    withFiles({ 'c.yaml': 'chardevs:\n  - { id: x, backend: { type: ringbuf, data: {} } }\n' }, (path) => {
      assert.throws(
        () => parseDaemonArgs(['-chardev', 'null,id=x', '--config', path('c.yaml')], quiet),
        new UsageError(`-chardev null,id=x: Duplicate ID 'x' for chardev (first defined by ${path('c.yaml')}:2: chardevs[0] (id 'x'))`),
      );
    });
  });

  test("reports a config file's problem as it is", () => {
    withFiles({ 'bad.yaml': 'chardevs:\n  - { id: x, backend: { type: ringbuf, data: { size: "big" } } }\n' }, (path) => {
      assert.throws(
        () => parseDaemonArgs(['--config', path('bad.yaml')], quiet),
        new ConfigError(`${path('bad.yaml')}:2: chardevs[0] (id 'x'): Invalid parameter type for 'backend.data.size', expected: integer`),
      );
      assert.throws(
        () => parseDaemonArgs(['--config', path('missing.yaml')], quiet),
        new ConfigError(`${path('missing.yaml')}: cannot read config file: No such file or directory`),
      );
    });
  });
});

suite('parseDaemonArgs -object', () => {
  test("takes -object in key=value and JSON, config files' objects first, and refuses a taken id in object-add's words", () => {
    const dir = mkdtempSync(join(tmpdir(), 'chardevd-args-'));
    try {
      const file = join(dir, 'c.yaml');
      writeFileSync(file, 'objects:\n  - authz-simple,id=a0,identity=x\n');
      const args = parseDaemonArgs(['-config', file, '-object', 'tls-creds-anon,id=n0,endpoint=server', '-object', '{"qom-type":"authz-list","id":"a1"}'], quiet);
      assert.equal(args.action, 'run');
      if (args.action !== 'run') return;
      assert.deepEqual(
        args.objects.map((object) => [object.options.id, object.options['qom-type']]),
        [
          ['a0', 'authz-simple'],
          ['n0', 'tls-creds-anon'],
          ['a1', 'authz-list'],
        ],
      );
      assert.throws(
        () => parseDaemonArgs(['-config', file, '-object', 'authz-list,id=a0'], quiet),
        new UsageError("attempt to add duplicate property 'a0' to object (type 'container')"),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("names the option in a parse error, with QEMU's hint for a bad id", () => {
    assert.throws(() => parseDaemonArgs(['-object', 'bogus,id=a'], quiet), new UsageError("-object bogus,id=a: Parameter 'qom-type' does not accept value 'bogus'"));
    assert.throws(
      () => parseDaemonArgs(['-object', 'authz-simple,id=1a,identity=x'], quiet),
      new UsageError(
        "-object authz-simple,id=1a,identity=x: Parameter 'id' expects an identifier\nIdentifiers consist of letters, digits, '-', '.', '_', starting with a letter.",
      ),
    );
  });
});
