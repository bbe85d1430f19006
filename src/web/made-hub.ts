import type { Chardev, ChardevContext } from '../chardev/chardev.js';
import { HubChardev } from '../chardev/hub.js';
import { LinkDevice } from '../device/link.js';

/**
 * A hub made for the web viewers of a chardev that no hub serves. For a
 * chardev with no frontend (a pty, a serial line, a socket nobody
 * linked), the chardev and the hub are joined by a link, as `npm start`
 * joins guest0 and the hub console0, and viewers may type with a token.
 * For a chardev a link joins to a chardev that is no hub (`-device
 * link,chardev=serial0,peer=tcpserver`), the hub taps that link: it gets
 * a copy of what the chardev receives, never holds the link back (its
 * viewers are lossy members), and its viewers only watch, as keys would
 * mix with the peer's. Either way the hub exists only while viewers do
 * and is not registered, so nothing else can take it: query-chardev
 * shows it under the chardev's `viewers`, with its viewers and their
 * drops, as /metrics, HUB_MEMBER_DROPPED (hub: the chardev's id) and the
 * page do.
 */
export class MadeHub {
  readonly hub: HubChardev;
  /** The link the hub joins the chardev by, or the one it taps. */
  readonly #link: LinkDevice;
  /** Whether the hub taps a link it does not own: its viewers only watch. */
  readonly tapping: boolean;

  constructor(
    readonly chardev: Chardev,
    context: ChardevContext,
    /** The link that holds the chardev, to tap; none to link the chardev to the hub. */
    tapped: LinkDevice | undefined,
    /** The tapped link went (device_del): the hub's viewers have nothing more to see. */
    unlinked: () => void,
  ) {
    // The chardev's id: the page, a viewer's hello and HUB_MEMBER_DROPPED name the console as the chardev they asked for.
    this.hub = HubChardev.withoutMembers(chardev.id, { log: context.log, events: context.events });
    this.tapping = tapped !== undefined;
    if (tapped === undefined) {
      this.#link = new LinkDevice(undefined, `the web console of '${chardev.id}'`, chardev, this.hub);
    } else {
      this.#link = tapped;
      // Whether the hub keeps up is its own affair (its members are lossy): the link goes at its peer's pace.
      tapped.setTap(chardev, { copy: (data, lease) => this.hub.write(data, lease), unlinked });
    }
    chardev.viewers = this.hub;
  }

  /** The hub closes and the link goes (or is no longer tapped): a chardev with no frontend is free again, and stops reading until another frontend comes. */
  dispose(): void {
    if (this.chardev.viewers === this.hub) this.chardev.viewers = undefined;
    if (this.tapping) this.#link.setTap(this.chardev, undefined);
    else this.#link.detach();
    void this.hub.close();
  }
}
