import type { Chardev } from '../chardev/chardev.js';
import { HubChardev } from '../chardev/hub.js';
import type { LinkDevice } from '../device/link.js';

/** What a web viewer of a chardev joins: a hub there is, one to make for the chardev, or why there is none. */
export type ViewTarget = { readonly hub: HubChardev } | { readonly madeFor: Chardev; readonly tapping?: LinkDevice } | { readonly refusal: string };

/**
 * The hub a web viewer of `chardev` joins: the chardev itself when it is
 * a hub; the hub a link joins it to (`npm start`'s guest0, linked to the
 * hub console0: viewing guest0 is viewing console0, whose members see
 * what guest0 receives and whose input guest0 sends); the hub made for
 * it earlier (`made`). A chardev with no frontend gets a hub made for it
 * (MadeHub), and so does one a link joins to a chardev that is no hub (a
 * hub that taps the link, for watching only), unless it is a sink that
 * receives nothing (ringbuf, file, null) or a mux.
 */
export function viewTarget(chardev: Chardev, links: readonly LinkDevice[], made: (chardev: Chardev) => HubChardev | undefined): ViewTarget {
  if (chardev instanceof HubChardev) return { hub: chardev };
  for (const link of links) {
    if (link.chardev === chardev && link.peer instanceof HubChardev) return { hub: link.peer };
    if (link.peer === chardev && link.chardev instanceof HubChardev) return { hub: link.chardev };
  }
  const hub = made(chardev);
  if (hub !== undefined) return { hub };
  if (chardev.frontend === undefined && chardev.acceptsFrontend && !chardev.multiplexer && !chardev.losslessSink) return { madeFor: chardev };
  const link = links.find((candidate) => candidate.chardev === chardev || candidate.peer === chardev);
  if (link !== undefined && !chardev.losslessSink) return { madeFor: chardev, tapping: link };
  const why = chardev.losslessSink ? 'it only stores what is written to it' : 'it is in use, and not by a link';
  return { refusal: `Chardev '${chardev.id}' cannot be viewed: ${why} (docs/web.md)` };
}
