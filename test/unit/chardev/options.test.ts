import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite, test } from 'node:test';
import { ChardevHelpRequest, ChardevOptionError } from '../../../src/chardev/option-error.js';
import { chardevOptionsHelp, parseChardevOption } from '../../../src/chardev/options.js';
import type { ChardevBackend } from '../../../src/generated/qapi-types.gen.js';
import { qemuSkipReason } from '../../support/servers.js';

/**
 * How QEMU 7.2 ends up with a row's text (checked by running it, below):
 * - 'accepts': it creates the chardev;
 * - later: its parse accepts the text and the backend's open refuses the
 *   resulting object with this message (chardevd's creation must too);
 * - refuses: a chardevd extension, which QEMU 7.2 refuses with this message;
 * - skip: not run, for the reason given.
 */
type QemuOutcome = 'accepts' | { readonly later: string } | { readonly refuses: string } | { readonly skip: string };

interface AcceptedRow {
  readonly text: string;
  readonly id: string;
  readonly backend: ChardevBackend;
  readonly mux?: boolean;
  readonly warnings?: readonly string[];
  readonly qemu?: QemuOutcome;
}

interface RefusedRow {
  readonly text: string;
  readonly error: string;
  readonly warnings?: readonly string[];
  /** Set for chardevd extensions: QEMU 7.2's own message. */
  readonly qemu?: { readonly refuses: string };
}

type Row = AcceptedRow | RefusedRow;

const ID_ERROR = "Parameter 'id' expects an identifier\nIdentifiers consist of letters, digits, '-', '.', '_', starting with a letter.";
const SIZE_ERROR = (name: string): string =>
  `Parameter '${name}' expects a non-negative number below 2^64\nOptional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\nand exabytes, respectively.`;
const shortForm = (word: string, replacement: string): string => `warning: short-form boolean option '${word}' deprecated\nPlease use ${replacement} instead`;
const alias = (name: string, kind: string): string => `warning: The alias '${name}' is deprecated, use '${kind}' instead`;

/** qemu_chr_parse_common always sets logappend. */
const common = { logappend: false } as const;
const unix = (path: string) => ({ type: 'unix' as const, data: { path, abstract: false, tight: true } });

// Relative paths: the QEMU test runs each row in a fresh temporary directory.
const ROWS: readonly Row[] = [
  // The option syntax (util/qemu-option.c) and step 2's checks (chardev/char.c).
  { text: 'ringbuf,id=a,size=1k', id: 'a', backend: { type: 'ringbuf', data: { ...common, size: 1024 } } },
  { text: 'id=a,backend=ringbuf', id: 'a', backend: { type: 'ringbuf', data: common } },
  { text: 'ringbuf,id=a,', id: 'a', backend: { type: 'ringbuf', data: common } },
  { text: 'ringbuf,id=a.b-c_9', id: 'a.b-c_9', backend: { type: 'ringbuf', data: common } },
  { text: 'ringbuf,id=a,id=9', id: 'a', backend: { type: 'ringbuf', data: common } },
  { text: 'ringbuf,id=a,backend=null', id: 'a', backend: { type: 'null', data: common } },
  { text: 'ringbuf,id', id: 'on', backend: { type: 'ringbuf', data: common }, warnings: [shortForm('id', 'id=on')] },
  { text: 'ringbuf,id=a,noid', id: 'a', backend: { type: 'ringbuf', data: common }, warnings: [shortForm('noid', 'id=off')] },
  { text: 'null,id=a,mux=on', id: 'a', backend: { type: 'null', data: common }, mux: true },
  { text: 'null,id=a,mux=yes,mux=n', id: 'a', backend: { type: 'null', data: common } },
  { text: 'null,id=a,debug=3,name=x,width=5,tight=off', id: 'a', backend: { type: 'null', data: common } },
  { text: 'null,id=a,logfile=out,,log,logappend=true', id: 'a', backend: { type: 'null', data: { logfile: 'out,log', logappend: true } } },
  { text: 'ringbuf,id=a,logappend', id: 'a', backend: { type: 'ringbuf', data: { logappend: true } }, warnings: [shortForm('logappend', 'logappend=on')] },
  { text: '', error: 'chardev: no id specified' },
  { text: 'ringbuf', error: 'chardev: no id specified' },
  { text: 'id=x9', error: 'chardev: "x9" missing backend' },
  { text: 'ringbuf,id=9a', error: ID_ERROR },
  { text: 'ringbuf,id=', error: ID_ERROR },
  { text: 'ringbuf,id=a,,', error: ID_ERROR },
  { text: 'ringbuf,id=9a,bogus=1,server', error: ID_ERROR },
  { text: 'ringbuf,id=9,id=a', error: ID_ERROR },
  { text: 'foo,id=a', error: "'foo' is not a valid char driver name" },
  { text: 'console,id=a', error: "'console' is not a valid char driver name" },
  { text: 'gdb,id=a', error: "'gdb' is not a valid char driver name" },
  { text: 'fd,id=a', error: "Parameter 'driver' expects a non-abstract device type" },
  { text: 'spice,id=a', error: "Parameter 'driver' expects a non-abstract device type" },
  { text: 'ring,,buf,id=a', error: "'ring,buf' is not a valid char driver name" },
  { text: 'ringbuf,,id=a', error: "'ringbuf,id=a' is not a valid char driver name" },
  { text: ',id=a', error: "'' is not a valid char driver name" },
  { text: 'ringbuf,id=a,backend=', error: "'' is not a valid char driver name" },
  { text: 'ringbuf,id=a,backend', error: "'on' is not a valid char driver name", warnings: [shortForm('backend', 'backend=on')] },
  { text: 'ringbuf,id=a,bogus=1', error: "Invalid parameter 'bogus'" },
  { text: 'ringbuf,id=a,bogus', error: "Invalid parameter 'bogus'", warnings: [shortForm('bogus', 'bogus=on')] },
  { text: 'ringbuf,id=a,nobogus', error: "Invalid parameter 'bogus'", warnings: [shortForm('nobogus', 'bogus=off')] },
  { text: 'ringbuf,id=a,nohelp', error: "Invalid parameter 'help'", warnings: [shortForm('nohelp', 'help=off')] },
  { text: 'ringbuf,id=a,a,,b=c', error: "Invalid parameter 'a'", warnings: [shortForm('a', 'a=on')] },
  { text: 'ringbuf,id=a,=x', error: "Invalid parameter ''" },
  { text: 'id=a,ringbuf', error: "Invalid parameter 'ringbuf'", warnings: [shortForm('ringbuf', 'ringbuf=on')] },
  { text: 'ringbuf,id=a,mux=maybe', error: "Parameter 'mux' expects 'on' or 'off'" },
  { text: 'ringbuf,id=a,nowait,mux=maybe', error: "Parameter 'mux' expects 'on' or 'off'", warnings: [shortForm('nowait', 'wait=off')] },
  { text: 'ringbuf,id=a,wait=ON', error: "Parameter 'wait' expects 'on' or 'off'" },
  { text: 'ringbuf,id=a,server=1', error: "Parameter 'server' expects 'on' or 'off'" },
  { text: 'ringbuf,id=a,logappend=', error: "Parameter 'logappend' expects 'on' or 'off'" },
  {
    text: 'ringbuf,id=a,size=0x1k,server=x',
    error: "Parameter 'server' expects 'on' or 'off'",
    warnings: ['warning: Using a multiplier suffix on hex numbers is deprecated: 0x1k'],
  },
  // Numbers (parse_option_number: strtoull in base 0, nothing may follow).
  { text: 'ringbuf,id=a,to=abc', error: "Parameter 'to' expects a number" },
  { text: 'ringbuf,id=a,to=', error: "Parameter 'to' expects a number" },
  { text: 'ringbuf,id=a,to=08', error: "Parameter 'to' expects a number" },
  { text: 'ringbuf,id=a,to=0x', error: "Parameter 'to' expects a number" },
  { text: 'ringbuf,id=a,reconnect=-', error: "Parameter 'reconnect' expects a number" },
  { text: 'ringbuf,id=a,width=5 ', error: "Parameter 'width' expects a number" },
  { text: 'ringbuf,id=a,to=99999999999999999999x', error: "Parameter 'to' expects a number" },
  { text: 'ringbuf,id=a,to=99999999999999999999', error: "Value '99999999999999999999' is too large for parameter 'to'" },
  { text: 'ringbuf,id=a,to=-99999999999999999999', error: "Value '-99999999999999999999' is too large for parameter 'to'" },
  { text: 'ringbuf,id=a,to= +010,reconnect=0x1F,width=-1', id: 'a', backend: { type: 'ringbuf', data: common } },
  // Sizes (qemu-size.ts) and ringbuf's C int.
  // 640k is a valid size but not a power of two, which only the open refuses.
  {
    text: 'ringbuf,id=a,size=640k',
    id: 'a',
    backend: { type: 'ringbuf', data: { ...common, size: 655360 } },
    qemu: { later: 'size of ringbuf chardev must be power of two' },
  },
  { text: 'memory,id=m,size=1M', id: 'm', backend: { type: 'memory', data: { ...common, size: 1048576 } } },
  { text: 'ringbuf,id=a,size=0', id: 'a', backend: { type: 'ringbuf', data: common } },
  { text: 'ringbuf,id=a,size=4G', id: 'a', backend: { type: 'ringbuf', data: common } },
  { text: 'ringbuf,id=a,size=4294967297', id: 'a', backend: { type: 'ringbuf', data: { ...common, size: 1 } } },
  {
    text: 'ringbuf,id=a,size=0x1k',
    id: 'a',
    backend: { type: 'ringbuf', data: { ...common, size: 1024 } },
    warnings: ['warning: Using a multiplier suffix on hex numbers is deprecated: 0x1k'],
  },
  {
    text: 'ringbuf,id=a,size=2G',
    id: 'a',
    backend: { type: 'ringbuf', data: { ...common, size: -2147483648 } },
    qemu: { later: 'size of ringbuf chardev must be power of two' },
  },
  {
    text: 'ringbuf,id=a,size=6G',
    id: 'a',
    backend: { type: 'ringbuf', data: { ...common, size: -2147483648 } },
    qemu: { later: 'size of ringbuf chardev must be power of two' },
  },
  { text: 'ringbuf,id=a,size=3', id: 'a', backend: { type: 'ringbuf', data: { ...common, size: 3 } }, qemu: { later: 'size of ringbuf chardev must be power of two' } },
  {
    text: 'ringbuf,id=a,size=1.5k',
    id: 'a',
    backend: { type: 'ringbuf', data: { ...common, size: 1536 } },
    qemu: { later: 'size of ringbuf chardev must be power of two' },
  },
  { text: 'ringbuf,id=a,size=-1', error: SIZE_ERROR('size') },
  { text: 'ringbuf,id=a,size=1KiB', error: SIZE_ERROR('size') },
  { text: 'ringbuf,id=a,size=16E', error: "Value '16E' is out of range for parameter 'size'" },
  // file, pipe, serial/tty, parallel/parport.
  { text: 'file,id=a', error: 'chardev: file: no filename given' },
  { text: 'file,id=f,path=out.log', id: 'f', backend: { type: 'file', data: { ...common, out: 'out.log', append: false } } },
  {
    text: 'file,id=f,path=out.log,append=on,logfile=log.txt,logappend=on',
    id: 'f',
    backend: { type: 'file', data: { logfile: 'log.txt', logappend: true, out: 'out.log', append: true } },
  },
  { text: 'pipe,id=a', error: 'chardev: pipe: no device path given' },
  {
    text: 'pipe,id=p,path=fifo',
    id: 'p',
    backend: { type: 'pipe', data: { ...common, device: 'fifo' } },
    qemu: { later: "Could not open 'fifo': No such file or directory" },
  },
  { text: 'serial,id=a', error: 'chardev: serial/tty: no device path given' },
  { text: 'tty,id=a', error: 'chardev: serial/tty: no device path given', warnings: [alias('tty', 'serial')] },
  {
    text: 'tty,id=t,path=missing-tty',
    id: 't',
    backend: { type: 'serial', data: { ...common, device: 'missing-tty' } },
    warnings: [alias('tty', 'serial')],
    qemu: { later: "Could not open 'missing-tty': No such file or directory" },
  },
  { text: 'parallel,id=a', error: 'chardev: parallel: no device path given' },
  { text: 'parport,id=a', error: 'chardev: parallel: no device path given', warnings: [alias('parport', 'parallel')] },
  {
    text: 'parallel,id=p,path=missing-lp',
    id: 'p',
    backend: { type: 'parallel', data: { ...common, device: 'missing-lp' } },
    qemu: { later: "Could not open 'missing-lp': No such file or directory" },
  },
  { text: 'tty,id=a,server', error: 'chardev: serial/tty: no device path given', warnings: [shortForm('server', 'server=on'), alias('tty', 'serial')] },
  // Backends without a parse function: the common members only.
  { text: 'pty,id=a', id: 'a', backend: { type: 'pty', data: common } },
  { text: 'null,id=a', id: 'a', backend: { type: 'null', data: common } },
  { text: 'msmouse,id=a', id: 'a', backend: { type: 'msmouse', data: common } },
  { text: 'wctablet,id=a', id: 'a', backend: { type: 'wctablet', data: common } },
  { text: 'testdev,id=a', id: 'a', backend: { type: 'testdev', data: common } },
  { text: 'braille,id=a', id: 'a', backend: { type: 'braille', data: common }, qemu: { skip: "QEMU's open needs the host's brlapi daemon" } },
  // stdio, mux, udp.
  { text: 'stdio,id=a', id: 'a', backend: { type: 'stdio', data: { ...common, signal: true } } },
  { text: 'stdio,id=a,signal=off', id: 'a', backend: { type: 'stdio', data: { ...common, signal: false } } },
  { text: 'mux,id=a', error: 'chardev: mux: no chardev given' },
  { text: 'mux,id=m,chardev=base', id: 'm', backend: { type: 'mux', data: { ...common, chardev: 'base' } }, qemu: { later: 'mux: base chardev base not found' } },
  { text: 'udp,id=a', error: 'chardev: udp: remote port not specified' },
  { text: 'udp,id=a,host=127.0.0.1,port=', error: 'chardev: udp: remote port not specified' },
  {
    text: 'udp,id=u,port=4555',
    id: 'u',
    backend: { type: 'udp', data: { ...common, remote: { type: 'inet', data: { host: 'localhost', port: '4555' } } } },
  },
  {
    text: 'udp,id=u,host=127.0.0.1,port=4555,localport=0,ipv4=on,ipv6=off',
    id: 'u',
    backend: {
      type: 'udp',
      data: {
        ...common,
        remote: { type: 'inet', data: { host: '127.0.0.1', port: '4555', ipv4: true, ipv6: false } },
        local: { type: 'inet', data: { host: '', port: '0' } },
      },
    },
  },
  {
    text: 'udp,id=u,host=,port=4555,localaddr=127.0.0.1,localport=',
    id: 'u',
    backend: {
      type: 'udp',
      data: { ...common, remote: { type: 'inet', data: { host: 'localhost', port: '4555' } }, local: { type: 'inet', data: { host: '127.0.0.1', port: '0' } } },
    },
  },
  // socket: server is explicit, wait explicit when given or serving.
  { text: 'socket,id=a,path=x,host=h', error: "None or one of 'path', 'fd' or 'host' option required." },
  { text: 'socket,id=a,fd=3,path=x', error: "None or one of 'path', 'fd' or 'host' option required." },
  { text: 'socket,id=a,host=h', error: 'chardev: socket: no port given' },
  { text: 'socket,id=a,host=', error: 'chardev: socket: no port given' },
  { text: 'socket,id=a,path=x,delay=on,nodelay=on', error: "'delay' and 'nodelay' are mutually exclusive" },
  {
    text: 'socket,id=a',
    id: 'a',
    backend: { type: 'socket', data: { ...common, addr: { type: 'fd', data: { str: '' } }, server: false } },
    qemu: { later: 'Unable to parse FD number ' },
  },
  {
    text: 'socket,id=a,fd=abc',
    id: 'a',
    backend: { type: 'socket', data: { ...common, addr: { type: 'fd', data: { str: 'abc' } }, server: false } },
    qemu: { later: 'Unable to parse FD number abc' },
  },
  {
    text: 'socket,id=s,path=s.sock,server=on,wait=off',
    id: 's',
    backend: { type: 'socket', data: { ...common, addr: unix('s.sock'), server: true, wait: false } },
  },
  {
    text: 'socket,id=s,path=s.sock,server,nowait,websocket=on',
    id: 's',
    backend: { type: 'socket', data: { ...common, addr: unix('s.sock'), server: true, wait: false, websocket: true } },
    warnings: [shortForm('server', 'server=on'), shortForm('nowait', 'wait=off')],
  },
  {
    text: 'socket,id=s,path=missing/s.sock',
    id: 's',
    backend: { type: 'socket', data: { ...common, addr: unix('missing/s.sock'), server: false } },
    qemu: { later: "Failed to connect to 'missing/s.sock': No such file or directory" },
  },
  {
    text: 'socket,id=s,path=missing/s.sock,wait=off',
    id: 's',
    backend: { type: 'socket', data: { ...common, addr: unix('missing/s.sock'), server: false, wait: false } },
    qemu: { later: "'wait' option is incompatible with socket in client connect mode" },
  },
  {
    text: 'socket,id=s,path=missing/s.sock,websocket=on',
    id: 's',
    backend: { type: 'socket', data: { ...common, addr: unix('missing/s.sock'), server: false, websocket: true } },
    qemu: { later: 'Websocket client is not implemented' },
  },
  {
    text: 'socket,id=s,path=missing/s.sock,server=on,wait=off,reconnect=1',
    id: 's',
    backend: { type: 'socket', data: { ...common, addr: unix('missing/s.sock'), server: true, wait: false, reconnect: 1 } },
    qemu: { later: "'reconnect' option is incompatible with socket in server listen mode" },
  },
  {
    text: 'socket,id=s,path=missing/s.sock,reconnect=-1',
    id: 's',
    backend: { type: 'socket', data: { ...common, addr: unix('missing/s.sock'), server: false, reconnect: -1 } },
    qemu: { later: "Failed to connect to 'missing/s.sock': No such file or directory" },
  },
  {
    text: 'socket,id=s,path=missing/s.sock,reconnect=2',
    id: 's',
    backend: { type: 'socket', data: { ...common, addr: unix('missing/s.sock'), server: false, reconnect: 2 } },
  },
  {
    text: 'socket,id=s,path=missing/s.sock,abstract=on,tight=off',
    id: 's',
    backend: { type: 'socket', data: { ...common, addr: { type: 'unix', data: { path: 'missing/s.sock', abstract: true, tight: false } }, server: false } },
    qemu: { later: "Failed to connect to 'missing/s.sock': Connection refused" },
  },
  {
    text: 'socket,id=s,path=missing/s.sock,nodelay',
    id: 's',
    backend: { type: 'socket', data: { ...common, addr: unix('missing/s.sock'), server: false, nodelay: true } },
    warnings: [shortForm('nodelay', 'nodelay=on')],
    qemu: { later: "Failed to connect to 'missing/s.sock': No such file or directory" },
  },
  {
    text: 'socket,id=s,path=missing/s.sock,delay',
    id: 's',
    backend: { type: 'socket', data: { ...common, addr: unix('missing/s.sock'), server: false, nodelay: false } },
    warnings: [shortForm('delay', 'nodelay=off')],
    qemu: { later: "Failed to connect to 'missing/s.sock': No such file or directory" },
  },
  {
    text: 'socket,id=s,path=missing/s.sock,delay=off',
    id: 's',
    backend: { type: 'socket', data: { ...common, addr: unix('missing/s.sock'), server: false, nodelay: true } },
    qemu: { later: "Failed to connect to 'missing/s.sock': No such file or directory" },
  },
  {
    text: 'socket,id=s,host=127.0.0.1,port=0,server=on,wait=off,to=70000,ipv4=on,nodelay=on,telnet=on',
    id: 's',
    backend: {
      type: 'socket',
      data: { ...common, addr: { type: 'inet', data: { host: '127.0.0.1', port: '0', to: 4464, ipv4: true } }, server: true, wait: false, nodelay: true, telnet: true },
    },
  },
  {
    text: 'socket,id=s,host=localhost,port=4555,tls-creds=tls0,tls-authz=authz0,reconnect=5,websocket=on,tn3270=off',
    id: 's',
    backend: {
      type: 'socket',
      data: {
        ...common,
        addr: { type: 'inet', data: { host: 'localhost', port: '4555' } },
        'tls-creds': 'tls0',
        'tls-authz': 'authz0',
        server: false,
        tn3270: false,
        websocket: true,
        reconnect: 5,
      },
    },
    qemu: { later: "No TLS credentials with id 'tls0'" },
  },
  // The emulator-only backends, for the caller to refuse with its own words.
  { text: 'vc,id=v', id: 'v', backend: { type: 'vc', data: common } },
  { text: 'vc,id=v,width=640,height=480,cols=0,rows=4294967297', id: 'v', backend: { type: 'vc', data: { ...common, width: 640, height: 480, rows: 1 } } },
  { text: 'spicevmc,id=a', error: 'chardev: spice channel: no name given' },
  { text: 'spicevmc,id=s,name=vdagent', id: 's', backend: { type: 'spicevmc', data: { ...common, type: 'vdagent' } } },
  { text: 'spiceport,id=a', error: 'chardev: spice port: no name given' },
  {
    text: 'spiceport,id=p,name=org.qemu.console.serial.0',
    id: 'p',
    backend: { type: 'spiceport', data: { ...common, fqdn: 'org.qemu.console.serial.0' } },
    qemu: { later: 'spice not enabled' },
  },
  { text: 'dbus,id=a', error: 'chardev: dbus: no name given' },
  { text: 'dbus,id=d,name=x', id: 'd', backend: { type: 'dbus', data: { ...common, name: 'x' } } },
  { text: 'qemu-vdagent,id=v', id: 'v', backend: { type: 'qemu-vdagent', data: { ...common, mouse: true, clipboard: false } } },
  { text: 'qemu-vdagent,id=v,mouse=off,clipboard=on', id: 'v', backend: { type: 'qemu-vdagent', data: { ...common, mouse: false, clipboard: true } } },
  // chardevd's extensions.
  {
    text: 'null,id=a,logfile=out.log,logsize=1M,logbackups=2',
    id: 'a',
    backend: { type: 'null', data: { logfile: 'out.log', logappend: false, logsize: 1048576, logbackups: 2 } },
    qemu: { refuses: "Invalid parameter 'logsize'" },
  },
  { text: 'null,id=a,logsize=1x', error: SIZE_ERROR('logsize'), qemu: { refuses: "Invalid parameter 'logsize'" } },
  { text: 'null,id=a,logbackups=4294967296', error: "Parameter 'logbackups' expects uint32", qemu: { refuses: "Invalid parameter 'logbackups'" } },
  {
    text: 'file,id=f,path=out.log,input-path=in.fifo',
    id: 'f',
    backend: { type: 'file', data: { ...common, in: 'in.fifo', out: 'out.log', append: false } },
    qemu: { refuses: "Invalid parameter 'input-path'" },
  },
  {
    text: 'socket,id=s,path=s.sock,server=on,wait=off,clients=4',
    id: 's',
    backend: { type: 'socket', data: { ...common, addr: unix('s.sock'), server: true, wait: false, clients: 4 } },
    qemu: { refuses: "Invalid parameter 'clients'" },
  },
  {
    text: 'socket,id=s,path=missing/s.sock,reconnect-ms=250',
    id: 's',
    backend: { type: 'socket', data: { ...common, addr: unix('missing/s.sock'), server: false, 'reconnect-ms': 250 } },
    qemu: { refuses: "Invalid parameter 'reconnect-ms'" },
  },
  { text: 'socket,id=s,path=s.sock,clients=4294967296', error: "Parameter 'clients' expects uint32", qemu: { refuses: "Invalid parameter 'clients'" } },
  {
    text: 'socket,id=s,path=s.sock,server=on,wait=off,clients=4,stall-timeout=1000',
    id: 's',
    backend: { type: 'socket', data: { ...common, addr: unix('s.sock'), server: true, wait: false, clients: 4, 'stall-timeout': 1000 } },
    qemu: { refuses: "Invalid parameter 'clients'" },
  },
  // A number option wraps a negative as strtoull does, which is then out of the uint32 member's range.
  { text: 'socket,id=s,path=s.sock,stall-timeout=-1', error: "Parameter 'stall-timeout' expects uint32", qemu: { refuses: "Invalid parameter 'stall-timeout'" } },
  { text: 'socket,id=s,path=s.sock,stall-timeout=1s', error: "Parameter 'stall-timeout' expects a number", qemu: { refuses: "Invalid parameter 'stall-timeout'" } },
  // hub is QEMU 10.0's (chardevs.0 to .3); chardevd takes members up to chardevs.255.
  {
    text: 'hub,id=h,chardevs.0=a,chardevs.1=b',
    id: 'h',
    backend: { type: 'hub', data: { ...common, chardevs: ['a', 'b'] } },
    qemu: { refuses: "Invalid parameter 'chardevs.0'" },
  },
  {
    text: 'hub,id=h,chardevs.0=a,chardevs.2=c',
    id: 'h',
    backend: { type: 'hub', data: { ...common, chardevs: ['a'] } },
    qemu: { refuses: "Invalid parameter 'chardevs.0'" },
  },
  {
    text: 'hub,id=h,chardevs.0=a,chardevs.1=b,chardevs.2=c,chardevs.3=d,chardevs.4=e,chardevs.255=z',
    id: 'h',
    backend: { type: 'hub', data: { ...common, chardevs: ['a', 'b', 'c', 'd', 'e'] } },
    qemu: { refuses: "Invalid parameter 'chardevs.0'" },
  },
  {
    text: 'hub,id=h,chardevs.0=a,backpressure=on,queue-size=64k,history=1M',
    id: 'h',
    backend: { type: 'hub', data: { ...common, chardevs: ['a'], backpressure: true, 'queue-size': 65536, history: 1048576 } },
    qemu: { refuses: "Invalid parameter 'chardevs.0'" },
  },
  {
    text: 'hub,id=h,chardevs.0=a,stall-timeout=0x3e8',
    id: 'h',
    backend: { type: 'hub', data: { ...common, chardevs: ['a'], 'stall-timeout': 1000 } },
    qemu: { refuses: "Invalid parameter 'chardevs.0'" },
  },
  { text: 'hub,id=h,chardevs.0=a,stall-timeout=-5', error: "Parameter 'stall-timeout' expects uint32", qemu: { refuses: "Invalid parameter 'chardevs.0'" } },
  { text: 'hub,id=h,chardevs.0=a,stall-timeout=', error: "Parameter 'stall-timeout' expects a number", qemu: { refuses: "Invalid parameter 'chardevs.0'" } },
  { text: 'hub,id=h,chardevs.0=a,stall-timeout=fast', error: "Parameter 'stall-timeout' expects a number", qemu: { refuses: "Invalid parameter 'chardevs.0'" } },
  { text: 'hub,id=h,chardevs.256=a', error: "Invalid parameter 'chardevs.256'", qemu: { refuses: "Invalid parameter 'chardevs.256'" } },
  { text: 'hub,id=h,chardevs.01=a', error: "Invalid parameter 'chardevs.01'", qemu: { refuses: "Invalid parameter 'chardevs.01'" } },
  { text: 'hub,id=h', id: 'h', backend: { type: 'hub', data: { ...common, chardevs: [] } }, qemu: { later: "'hub' is not a valid char driver name" } },
];

function isRefused(row: Row): row is RefusedRow {
  return 'error' in row;
}

function parseRefused(text: string): ChardevOptionError {
  try {
    parseChardevOption(text);
  } catch (error: unknown) {
    if (error instanceof ChardevOptionError) return error;
    throw error;
  }
  assert.fail(`${JSON.stringify(text)} was accepted`);
}

suite('parseChardevOption', () => {
  for (const row of ROWS) {
    test(`${JSON.stringify(row.text)} ${isRefused(row) ? `is refused: ${row.error.split('\n')[0]}` : `gives ${row.backend.type}`}`, () => {
      if (isRefused(row)) {
        const error = parseRefused(row.text);
        assert.equal(error.constructor, ChardevOptionError);
        assert.equal(error.message, row.error);
        assert.deepEqual(error.warnings, row.warnings ?? []);
      } else {
        assert.deepEqual(parseChardevOption(row.text), { id: row.id, backend: row.backend, mux: row.mux ?? false, warnings: row.warnings ?? [] });
      }
    });
  }

  test('builds members in schema order, base members first', () => {
    const { backend } = parseChardevOption('socket,id=s,telnet=on,wait=on,server=on,logfile=l,tls-creds=t,host=h,port=1,ipv6=on,to=2');
    assert.equal(
      JSON.stringify(backend),
      '{"type":"socket","data":{"logfile":"l","logappend":false,"addr":{"type":"inet","data":{"host":"h","port":"1","to":2,"ipv6":true}},"tls-creds":"t","server":true,"wait":true,"telnet":true}}',
    );
  });

  test('warns about an alias once per set of warned aliases, as QEMU warns once per process', () => {
    const warnedAliases = new Set<string>();
    assert.deepEqual(parseChardevOption('tty,id=a,path=x', { warnedAliases }).warnings, [alias('tty', 'serial')]);
    assert.deepEqual(parseChardevOption('tty,id=b,path=x', { warnedAliases }).warnings, []);
    assert.deepEqual(parseChardevOption('parport,id=c,path=x', { warnedAliases }).warnings, [alias('parport', 'parallel')]);
    assert.deepEqual(parseChardevOption('tty,id=d,path=x').warnings, [alias('tty', 'serial')]);
  });

  test("answers help requests with the listing to print and QEMU's exit status", () => {
    for (const text of ['help', '?']) {
      const error = parseRefused(text);
      assert.ok(error instanceof ChardevHelpRequest);
      assert.equal(error.topic, 'backends');
      assert.equal(error.exitStatus, 0);
      assert.match(error.message, /^Available chardev backend types: \n {2}/);
    }
    for (const text of ['ringbuf,help', 'ringbuf,?', 'ringbuf,id=a,server,help']) {
      const error = parseRefused(text);
      assert.ok(error instanceof ChardevHelpRequest);
      assert.equal(error.topic, 'options');
      assert.equal(error.exitStatus, 1);
      assert.equal(error.message, chardevOptionsHelp());
    }
    assert.deepEqual(parseRefused('ringbuf,id=a,server,help').warnings, [shortForm('server', 'server=on')]);
    // The id and the options before `help` are checked first.
    assert.equal(parseRefused('help,id=9').message, ID_ERROR);
    assert.equal(parseRefused('ringbuf,bogus=1,help').message, "Invalid parameter 'bogus'");
  });
});

// ---------------------------------------------------------------------------
// The same table against QEMU 7.2.

const QEMU = 'qemu-system-x86_64';
const QEMU_TIMEOUT_MS = 10_000;
/** A -device QEMU does not know: it fails right after the chardevs are created, so QEMU exits instead of running. */
const PROBE_DEVICE = 'chardevd-probe';

interface QemuRun {
  /** Reports for the -chardev option, without the "qemu-system-x86_64: -chardev TEXT: " prefix. */
  readonly warnings: string[];
  readonly errors: string[];
  /** QEMU got past the chardevs to the probe device. */
  readonly reachedDevices: boolean;
  readonly stdout: string;
  readonly status: number | null;
}

function runQemu(args: readonly string[], cwd: string): Promise<{ stdout: string; stderr: string; status: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(QEMU, ['-machine', 'none', '-nodefaults', '-display', 'none', ...args], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: QEMU_TIMEOUT_MS,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.once('error', reject);
    child.once('close', (status, signal) => {
      if (signal !== null) reject(new Error(`${QEMU} ${args.join(' ')} ended by ${signal}: ${stderr}`));
      else resolve({ stdout, stderr, status });
    });
  });
}

async function runChardev(text: string, cwd: string): Promise<QemuRun> {
  const { stdout, stderr, status } = await runQemu(['-chardev', text, '-device', PROBE_DEVICE], cwd);
  // One report per "qemu-system-x86_64: " line; hint lines continue the report before them.
  const reports: string[] = [];
  for (const line of stderr.split('\n')) {
    if (line === '' || line.startsWith('qemu: module ')) continue;
    if (line.startsWith(`${QEMU}: `) || reports.length === 0) reports.push(line);
    else reports[reports.length - 1] += `\n${line}`;
  }
  const prefix = `${QEMU}: -chardev ${text}: `;
  const own = reports.filter((report) => report.startsWith(prefix)).map((report) => report.slice(prefix.length));
  return {
    warnings: own.filter((report) => report.startsWith('warning: ')),
    errors: own.filter((report) => !report.startsWith('warning: ') && !report.startsWith('info: ')),
    reachedDevices: reports.some((report) => report.startsWith(`${QEMU}: -device ${PROBE_DEVICE}: `)),
    stdout,
    status,
  };
}

/** Runs `work` over `items`, a few at a time. */
async function forEachConcurrently<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        await work(items[index]!, index);
      }
    }),
  );
}

suite('parseChardevOption agrees with QEMU 7.2', { skip: qemuSkipReason() }, () => {
  test('every row of the table: the same error, or acceptance, with the same warnings', async () => {
    const root = mkdtempSync(join(tmpdir(), 'chardevd-options-'));
    const mismatches: string[] = [];
    try {
      await forEachConcurrently(ROWS, 8, async (row, index) => {
        const outcome: QemuOutcome = isRefused(row) ? (row.qemu ?? { later: row.error }) : (row.qemu ?? 'accepts');
        if (typeof outcome === 'object' && 'skip' in outcome) return;
        const cwd = join(root, String(index));
        mkdirSync(cwd);
        const run = await runChardev(row.text, cwd);
        const got = { errors: run.errors, reachedDevices: run.reachedDevices, warnings: run.warnings };
        let want: typeof got;
        if (outcome === 'accepts') {
          want = { errors: [], reachedDevices: true, warnings: [...(row.warnings ?? [])] };
        } else if ('refuses' in outcome) {
          // Refused in step 1: only the warnings of the options before the extension come first.
          want = { errors: [outcome.refuses], reachedDevices: false, warnings: run.warnings };
        } else {
          want = { errors: [outcome.later], reachedDevices: false, warnings: [...(row.warnings ?? [])] };
        }
        try {
          assert.deepEqual(got, want);
        } catch {
          mismatches.push(`${JSON.stringify(row.text)}: QEMU ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
        }
      });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
    assert.deepEqual(mismatches, []);
  });

  test("the option listing is QEMU's plus chardevd's extensions", async () => {
    const run = await runQemu(['-chardev', 'ringbuf,help'], tmpdir());
    assert.equal(run.status, 1);
    // The hub's options are QEMU 10.0's (chardevs.N) or chardevd's; QEMU 7.2 has no hub.
    const extensions = new Set([
      'clients',
      'input-path',
      'logbackups',
      'logsize',
      'reconnect-ms',
      'backpressure',
      'history',
      'queue-size',
      'stall-timeout',
      'chardevs.0',
      'chardevs.1',
      'chardevs.2',
      'chardevs.3',
    ]);
    const ours = chardevOptionsHelp()
      .split('\n')
      .filter((line) => !extensions.has(/^ {2}([^=]+)=/.exec(line)?.[1] ?? ''))
      .join('\n');
    assert.equal(run.stdout, `${ours}\n`);
  });

  test('every backend QEMU lists is a backend here, and help exits with status 0', async () => {
    const run = await runQemu(['-chardev', 'help'], tmpdir());
    assert.equal(run.status, 0);
    const [header, ...names] = run.stdout.trimEnd().split('\n');
    assert.equal(header, 'Available chardev backend types: ');
    assert.ok(names.length > 10, run.stdout);
    for (const name of names.map((line) => line.trim())) {
      assert.doesNotMatch(parseRefusedOrUndefined(`${name},id=a`) ?? '', /is not a valid char driver name/, name);
    }
  });
});

function parseRefusedOrUndefined(text: string): string | undefined {
  try {
    parseChardevOption(text);
    return undefined;
  } catch (error: unknown) {
    if (error instanceof ChardevOptionError) return error.message;
    throw error;
  }
}
