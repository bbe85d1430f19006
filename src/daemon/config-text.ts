import type { ChardevdConfig } from '../generated/qapi-types.gen.js';
import { yaml } from './yaml-module.js';

const HEADER = [
  " chardevd's running configuration (query-config), rewritten by --config-save",
  ' after every change; edits made here while it runs are overwritten.',
  ' Start chardevd with --config FILE to bring it back.',
].join('\n');

/**
 * A configuration as the text of a config file (YAML), which readConfigFile
 * reads back to the same items: listeners as strings, each object, chardev and
 * device on one line in flow style, as chardev-add's and device_add's
 * arguments. The yaml package quotes what YAML would read as something
 * else (`"null"`, a port `"4444"`), and lines are never folded.
 */
export function configFileText(config: ChardevdConfig): string {
  const { Document, isCollection } = yaml();
  const doc = new Document({
    objects: config.objects,
    qmp: config.qmp,
    hmp: config.hmp,
    chardevs: config.chardevs,
    devices: config.devices,
    ...(config.web === undefined ? {} : { web: config.web }),
  });
  for (const key of ['objects', 'chardevs', 'devices']) {
    const list = doc.get(key);
    if (!isCollection(list)) continue;
    for (const item of list.items) if (isCollection(item)) item.flow = true;
  }
  doc.commentBefore = HEADER;
  return doc.toString({ lineWidth: 0 });
}
