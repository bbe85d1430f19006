import { closeFds } from '../base/fd-passing.js';
import { GenericError } from '../qmp/errors.js';
import type { HandlersOf, QmpContext } from './context.js';

/** QEMU's QERR_FD_NOT_SUPPLIED. */
const NOT_SUPPLIED = 'No file descriptor supplied via SCM_RIGHTS';

/** The descriptor passed with the running command; human-monitor-command's have none (qmp_human_monitor_command's monitor has no chardev). */
function claimPassedFd(context: QmpContext): number {
  const fd = context.monitorFds?.claim();
  if (fd === undefined) throw new GenericError(NOT_SUPPLIED);
  return fd;
}

/** Descriptor commands (schema/misc.json), with QEMU 7.2's texts (monitor/misc.c). */
export const fdHandlers: HandlersOf<'getfd' | 'closefd' | 'add-fd' | 'remove-fd' | 'query-fdsets'> = {
  getfd({ fdname }, context) {
    const fd = claimPassedFd(context);
    if (/^[0-9]/.test(fdname)) {
      closeFds([fd]);
      throw new GenericError("Parameter 'fdname' expects a name not starting with a digit");
    }
    context.monitorFds!.setNamed(fdname, fd);
    return {};
  },

  closefd({ fdname }, { monitorFds }) {
    if (monitorFds?.closeNamed(fdname) !== true) throw new GenericError(`File descriptor named '${fdname}' not found`);
    return {};
  },

  'add-fd'(args, context) {
    const fd = claimPassedFd(context);
    const info = context.daemon.fdSets.add(fd, args['fdset-id'], args.opaque);
    if (info === undefined) {
      closeFds([fd]);
      throw new GenericError("Parameter 'fdset-id' expects a non-negative value");
    }
    return info;
  },

  'remove-fd'(args, context) {
    const id = args['fdset-id'];
    // The monitor running the command is connected, whether or not it is a QMP session.
    if (!context.daemon.fdSets.remove(id, args.fd, Math.max(1, context.server.sessions.size))) {
      throw new GenericError(`File descriptor named '${args.fd === undefined ? `fdset-id:${id}` : `fdset-id:${id}, fd:${args.fd}`}' not found`);
    }
    return {};
  },

  'query-fdsets'(_args, { daemon }) {
    return daemon.fdSets.list();
  },
};
