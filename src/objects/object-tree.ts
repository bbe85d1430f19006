import type { ObjectOptions, ObjectPropertyInfo } from '../generated/qapi-types.gen.js';
import type { JsonValue } from '../qobject/json-value.js';
import { ObjectError, ObjectPathNotFoundError } from './object-error.js';
import type { ObjectRegistry } from './object-registry.js';

/** One property of an object: its name and type as qom-list shows them, and its value from the object's arguments. */
interface Property {
  readonly name: string;
  readonly type: string;
  readonly value: (options: Record<string, JsonValue | undefined>) => JsonValue;
}

/** A property QEMU reads back as it was set, or as its default when it was not. */
const member = (name: string, type: string, unset: JsonValue): Property => ({ name, type, value: (options) => options[name] ?? unset });

// qom-list shows the `type` of class `object` first, then each class's
// properties from the base class down (qmp_qom_list prepends what
// object_property_iter_next walks). Within a class the order is QEMU
// 7.2's, as its hash table gives it; unset strings read back as "".
const TLS_CREDS: readonly Property[] = [
  member('endpoint', 'QCryptoTLSCredsEndpoint', 'client'),
  member('dir', 'string', ''),
  member('verify-peer', 'bool', true),
  member('priority', 'string', ''),
];
/** The `loaded` of every credentials class: chardevd's objects exist only loaded. */
const LOADED: Property = { name: 'loaded', type: 'bool', value: () => true };

const PROPERTIES: Readonly<Record<ObjectOptions['qom-type'], readonly Property[]>> = {
  'tls-creds-x509': [...TLS_CREDS, member('sanity-check', 'bool', true), member('passwordid', 'string', ''), LOADED],
  'tls-creds-psk': [...TLS_CREDS, member('username', 'string', ''), LOADED],
  'tls-creds-anon': [...TLS_CREDS, LOADED],
  'authz-simple': [member('identity', 'string', '')],
  'authz-list': [member('policy', 'QAuthZListPolicy', 'deny'), member('rules', 'QAuthZListRule', [])],
};

/** What a path names: a container (`/` or `/objects`) with its children, or an object. */
type Node =
  | { readonly kind: 'container'; readonly canonicalPath: string; readonly children: ReadonlyMap<string, string> }
  | { readonly kind: 'object'; readonly options: ObjectOptions };

/**
 * The part of QEMU's object tree chardevd models: the root, its
 * `/objects` container, and the objects in it (-object, object-add),
 * read by qom-list and qom-get with QEMU 7.2's answers (qom/qom-qmp-cmds.c).
 */
export class ObjectTree {
  constructor(private readonly objects: ObjectRegistry) {}

  /** qmp_qom_list. */
  list(path: string): ObjectPropertyInfo[] {
    // object_resolve_path_type finds every object for an empty partial path.
    if (path === '') throw new ObjectError("Path '' is ambiguous");
    const node = this.#resolve(path);
    const own: ObjectPropertyInfo[] =
      node.kind === 'container'
        ? [...node.children].map(([name, type]) => ({ name, type: `child<${type}>` }))
        : PROPERTIES[node.options['qom-type']].map(({ name, type }) => ({ name, type }));
    return [{ name: 'type', type: 'string' }, ...own];
  }

  /** qmp_qom_get: a child reads as its canonical path. */
  get(path: string, property: string): JsonValue {
    const node = this.#resolve(path);
    if (property === 'type') return node.kind === 'container' ? 'container' : node.options['qom-type'];
    if (node.kind === 'container') {
      if (node.children.has(property)) return `${node.canonicalPath}/${property}`;
      throw new ObjectError(`Property 'container.${property}' not found`);
    }
    const found = PROPERTIES[node.options['qom-type']].find(({ name }) => name === property);
    if (found === undefined) throw new ObjectError(`Property '${node.options['qom-type']}.${property}' not found`);
    return found.value(node.options as unknown as Record<string, JsonValue | undefined>);
  }

  /**
   * object_resolve_abs_path from the root, empty components skipped as
   * QEMU skips them; chardevd resolves no partial path.
   */
  #resolve(path: string): Node {
    const parts = path.split('/').filter((part) => part !== '');
    if (path.startsWith('/')) {
      if (parts.length === 0) return { kind: 'container', canonicalPath: '', children: new Map([['objects', 'container']]) };
      if (parts[0] === 'objects' && parts.length === 1) {
        return { kind: 'container', canonicalPath: '/objects', children: new Map(this.objects.list().map((info) => [info.id, info['qom-type']])) };
      }
      const options = parts[0] === 'objects' && parts.length === 2 ? this.objects.find(parts[1]!) : undefined;
      if (options !== undefined) return { kind: 'object', options };
    }
    throw new ObjectPathNotFoundError(path);
  }
}
