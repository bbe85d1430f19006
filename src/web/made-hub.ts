import type { Chardev, ChardevContext } from '../chardev/chardev.js';
import { HubChardev } from '../chardev/hub.js';
import { LinkDevice } from '../device/link.js';

/**
 * A hub made for web viewers of a chardev that has no frontend (a pty, a
 * serial line, a socket nobody linked): the chardev and the hub are
 * joined by a link, as `npm start` joins guest0 and the hub console0, and
 * both exist only while viewers do. Neither is registered, so nothing
 * else can take them: query-chardev shows the chardev's frontend open
 * and, under the chardev's `viewers`, the viewers and their drops, as
 * /metrics, HUB_MEMBER_DROPPED (hub: the chardev's id) and the page do.
 */
export class MadeHub {
  readonly hub: HubChardev;
  readonly #link: LinkDevice;

  constructor(
    readonly chardev: Chardev,
    context: ChardevContext,
  ) {
    // The chardev's id: the page, a viewer's hello and HUB_MEMBER_DROPPED name the console as the chardev they asked for.
    this.hub = HubChardev.withoutMembers(chardev.id, { log: context.log, events: context.events });
    this.#link = new LinkDevice(undefined, `the web console of '${chardev.id}'`, chardev, this.hub);
    chardev.viewers = this.hub;
  }

  /** The link goes and the hub closes: the chardev is free again, and stops reading until another frontend comes. */
  dispose(): void {
    if (this.chardev.viewers === this.hub) this.chardev.viewers = undefined;
    this.#link.detach();
    void this.hub.close();
  }
}
