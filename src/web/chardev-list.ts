import type { Chardev } from '../chardev/chardev.js';
import { HubChardev } from '../chardev/hub.js';
import type { LinkDevice } from '../device/link.js';
import { viewerHub } from './console-target.js';

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
  /** The hub a viewer of this chardev joins; absent where there is none. */
  readonly hub?: string;
  /** A hub's members: its logs, its viewers and their drops. */
  readonly members?: readonly MemberView[];
}

/** Every chardev, in the registry's order, as the page shows them. */
export function chardevList(chardevs: readonly Chardev[], links: readonly LinkDevice[]): ChardevView[] {
  return chardevs.map((chardev): ChardevView => {
    const hub = viewerHub(chardev, links);
    const view = { id: chardev.id, filename: chardev.filename, open: chardev.isOpen, bytesIn: chardev.bytesIn, bytesOut: chardev.bytesOut };
    if (typeof hub === 'string') return view;
    if (!(chardev instanceof HubChardev)) return { ...view, hub: hub.id };
    const members = chardev
      .info()
      .members.map((member): MemberView => ({ id: member.id, open: member.open, queued: member.queued, dropped: member.dropped, lagMs: member['lag-ms'] }));
    return { ...view, hub: hub.id, members };
  });
}
