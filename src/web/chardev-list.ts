import type { Chardev } from '../chardev/chardev.js';
import { HubChardev } from '../chardev/hub.js';
import type { LinkDevice } from '../device/link.js';
import { viewTarget } from './console-target.js';

/** One hub member as the page lists it. */
export interface MemberView {
  readonly id: string;
  readonly open: boolean;
  readonly queued: number;
  readonly dropped: number;
  readonly lagMs: number;
}

/** One chardev as the page lists it. */
export interface ChardevView {
  readonly id: string;
  readonly filename: string;
  readonly open: boolean;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Whether the page can open a terminal on it. */
  readonly viewable: boolean;
  /** The hub a viewer of this chardev joins, where there is one. */
  readonly hub?: string;
  /** A hub's members: its logs, its viewers and their drops. */
  readonly members?: readonly MemberView[];
}

/**
 * Every chardev, in the registry's order, as the page shows them; a
 * chardev with a hub made for it (`made`) lists that hub's members.
 */
export function chardevList(chardevs: readonly Chardev[], links: readonly LinkDevice[], made: (chardev: Chardev) => HubChardev | undefined): ChardevView[] {
  return chardevs.map((chardev): ChardevView => {
    const target = viewTarget(chardev, links, made);
    const view = { id: chardev.id, filename: chardev.filename, open: chardev.isOpen, bytesIn: chardev.bytesIn, bytesOut: chardev.bytesOut };
    if ('refusal' in target) return { ...view, viewable: false };
    if ('madeFor' in target) return { ...view, viewable: true };
    const hub = target.hub;
    if (!(chardev instanceof HubChardev) && made(chardev) !== hub) return { ...view, viewable: true, hub: hub.id };
    const members = hub
      .info()
      .members.map((member): MemberView => ({ id: member.id, open: member.open, queued: member.queued, dropped: member.dropped, lagMs: member['lag-ms'] }));
    return { ...view, viewable: true, hub: hub.id, members };
  });
}
