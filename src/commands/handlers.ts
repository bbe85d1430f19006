import type { QmpCommandHandlers } from '../generated/qapi-commands.gen.js';
import { charHandlers } from './char.js';
import { configHandlers } from './config.js';
import type { QmpContext } from './context.js';
import { controlHandlers } from './control.js';
import { demuxHandlers } from './demux.js';
import { fdHandlers } from './fd.js';
import { miscHandlers } from './misc.js';
import { objectHandlers } from './objects.js';
import { qdevHandlers } from './qdev.js';
import { webHandlers } from './web.js';

/** Every QMP command's handler, one table per domain joined; leaving one out is a compile error. */
export const qmpHandlers: QmpCommandHandlers<QmpContext> = {
  ...controlHandlers,
  ...charHandlers,
  ...qdevHandlers,
  ...demuxHandlers,
  ...miscHandlers,
  ...configHandlers,
  ...fdHandlers,
  ...webHandlers,
  ...objectHandlers,
};
