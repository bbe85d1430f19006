import { after, before, suite, test } from 'node:test';
import { compare, play, type Transcript } from './qmp-transcript.js';
import { type ExtraArgs, qemuSkipReason, type ServerProcess, startChardevd, startQemu } from './servers.js';

/** The two servers of a differential suite, started before its tests and stopped after them. */
export interface DifferentialServers {
  readonly qemu: ServerProcess;
  readonly chardevd: ServerProcess;
}

/**
 * A suite that plays each transcript to QEMU 7.2 and to chardevd and
 * requires the same replies, after `normaliseRun` (each server's
 * temporary directory is passed to `play` as `$DIR`). QEMU serves one
 * client at a time, so the transcripts run one after another. `more`
 * adds tests of its own on the same two servers; `args` are given to
 * both on their command lines.
 */
export function differentialSuite(
  name: string,
  transcripts: readonly Transcript[],
  normaliseRun: (run: string[]) => string[] = (run) => run,
  more?: (servers: DifferentialServers) => void,
  args: ExtraArgs = [],
): void {
  suite(name, { skip: qemuSkipReason() }, () => {
    let qemu: ServerProcess;
    let chardevd: ServerProcess;
    const servers: DifferentialServers = {
      get qemu() {
        return qemu;
      },
      get chardevd() {
        return chardevd;
      },
    };

    before(async () => {
      [qemu, chardevd] = await Promise.all([startQemu(args), startChardevd(args)]);
    });

    after(async () => {
      await Promise.all([qemu?.stop(), chardevd?.stop()]);
    });

    for (const transcript of transcripts) {
      test(transcript.name, async () => {
        const theirs = await play(qemu.qmpPath, transcript, qemu.dir);
        const ours = await play(chardevd.qmpPath, transcript, chardevd.dir);
        compare(normaliseRun(ours), normaliseRun(theirs));
      });
    }
    more?.(servers);
  });
}
