import type { ObjectTypeInfo } from '../generated/qapi-types.gen.js';
import { ObjectTree } from '../objects/object-tree.js';
import type { HandlersOf } from './context.js';

/**
 * The object types chardevd knows and their parents (QOM's type tree,
 * as far as it reaches here); `tls-creds`, `authz` and `object` are
 * abstract.
 */
const TYPES: readonly ObjectTypeInfo[] = [
  { name: 'tls-creds-x509', parent: 'tls-creds' },
  { name: 'tls-creds-psk', parent: 'tls-creds' },
  { name: 'tls-creds-anon', parent: 'tls-creds' },
  { name: 'authz-simple', parent: 'authz' },
  { name: 'authz-list', parent: 'authz' },
  { name: 'tls-creds', abstract: true, parent: 'object' },
  { name: 'authz', abstract: true, parent: 'object' },
  { name: 'object', abstract: true },
];

/** Whether `type` is `ancestor` or derives from it. */
function implementsType(type: ObjectTypeInfo, ancestor: string): boolean {
  if (type.name === ancestor) return true;
  const parent = TYPES.find((candidate) => candidate.name === type.parent);
  return parent !== undefined && implementsType(parent, ancestor);
}

/** QOM commands (schema/qom.json); failures are ObjectErrors, GenericError on the wire as in QEMU. */
export const objectHandlers: HandlersOf<'object-add' | 'object-del' | 'qom-list' | 'qom-get' | 'qom-list-types' | 'query-objects'> = {
  'object-add'(args, { daemon }) {
    daemon.objects.add(args);
    return {};
  },

  'object-del'({ id }, { daemon }) {
    daemon.objects.delete(id);
    return {};
  },

  'qom-list'({ path }, { daemon }) {
    return new ObjectTree(daemon.objects).list(path);
  },

  'qom-get'({ path, property }, { daemon }) {
    return new ObjectTree(daemon.objects).get(path, property);
  },

  // qmp_qom_list_types: abstract types only when asked for, every type without `implements`.
  'qom-list-types'({ implements: ancestor, abstract }) {
    return TYPES.filter((type) => (abstract === true || type.abstract !== true) && (ancestor === undefined || implementsType(type, ancestor)));
  },

  'query-objects'(_args, { daemon }) {
    return daemon.objects.list();
  },
};
