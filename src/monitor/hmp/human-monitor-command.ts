import type { HumanMonitor, QmpContext } from '../../commands/context.js';
import { type HmpInterpreter, monitorText } from './interpreter.js';
import type { QmpCaller } from './qmp-caller.js';

/**
 * The human monitor behind human-monitor-command (qmp_human_monitor_command):
 * a monitor without a line editor, whose output is collected and returned.
 * The QMP commands a line runs get the context of the QMP command that ran it.
 */
export class HumanMonitorCommand implements HumanMonitor {
  constructor(
    private readonly interpreter: HmpInterpreter,
    private readonly qmp: QmpCaller,
  ) {}

  async run(commandLine: string, context: QmpContext): Promise<string> {
    let output = '';
    const print = (text: string): void => {
      output += text;
    };
    await this.interpreter.execute(commandLine, {
      print,
      qmp: this.qmp.callerFor(context),
      chardevs: context.daemon.chardevs,
      monitor: undefined,
      monitorFds: undefined,
      help: (name) => this.interpreter.help(name, print),
      warnedAliases: this.interpreter.warnedAliases,
    });
    return monitorText(output);
  }
}
