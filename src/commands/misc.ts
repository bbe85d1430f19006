import { monitorText } from '../monitor/hmp/interpreter.js';
import { runQmpForHmp } from '../monitor/hmp/qmp-bridge.js';
import type { HandlersOf } from './context.js';
import { GenericError } from '../qmp/errors.js';

/** The human monitor through QMP (schema/misc.json). */
export const miscHandlers: HandlersOf<'human-monitor-command'> = {
  async 'human-monitor-command'(args, context) {
    // monitor_set_cpu fails for every index: chardevd has no CPUs (QEMU -machine none has none either).
    if (args['cpu-index'] !== undefined) throw new GenericError("Parameter 'cpu-index' expects a CPU number");
    const interpreter = context.daemon.hmp;
    let output = '';
    const print = (text: string): void => {
      output += text;
    };
    // qmp_human_monitor_command: a monitor without a line editor, whose output is collected and returned.
    await interpreter.execute(args['command-line'], {
      print,
      qmp: (command, commandArgs) => runQmpForHmp(context.dispatcher, context, command, commandArgs),
      chardevs: context.daemon.chardevs,
      monitor: undefined,
      help: (name) => interpreter.help(name, print),
      warnedAliases: interpreter.warnedAliases,
    });
    return monitorText(output);
  },
};
