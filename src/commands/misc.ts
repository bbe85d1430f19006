import type { HandlersOf } from './context.js';
import { GenericError } from '../qmp/errors.js';

/** The human monitor through QMP (schema/misc.json). */
export const miscHandlers: HandlersOf<'human-monitor-command'> = {
  async 'human-monitor-command'(args, context) {
    // monitor_set_cpu fails for every index: chardevd has no CPUs (QEMU -machine none has none either).
    // Index 0 is taken and ignored, unlike QEMU: QEMU's own qmp-shell -H sends it with every line.
    const cpuIndex = args['cpu-index'];
    if (cpuIndex !== undefined && cpuIndex !== 0) throw new GenericError("Parameter 'cpu-index' expects a CPU number");
    // The command line runs on a monitor of its own, without the connection's descriptors (qmp_human_monitor_command).
    return context.daemon.humanMonitor.run(args['command-line'], { ...context, session: undefined, monitorFds: undefined });
  },
};
