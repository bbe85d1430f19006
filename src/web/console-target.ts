import type { Chardev } from '../chardev/chardev.js';
import { HubChardev } from '../chardev/hub.js';
import type { LinkDevice } from '../device/link.js';

/**
 * The hub a web viewer of `chardev` joins: the chardev itself when it is
 * a hub, or the hub a link joins it to (`npm start`'s guest0, linked to
 * the hub console0: viewing guest0 is viewing console0, whose members see
 * what guest0 receives and whose input guest0 sends). Otherwise a
 * sentence saying why there is none.
 */
export function viewerHub(chardev: Chardev, links: readonly LinkDevice[]): HubChardev | string {
  if (chardev instanceof HubChardev) return chardev;
  for (const link of links) {
    if (link.chardev === chardev && link.peer instanceof HubChardev) return link.peer;
    if (link.peer === chardev && link.chardev instanceof HubChardev) return link.chardev;
  }
  return `Chardev '${chardev.id}' has no hub to view: the web console joins a hub, or a chardev linked to one (docs/web.md)`;
}
