/**
 * An authorization object (QEMU's QAuthZ): asked whether an identity, for
 * TLS a client certificate's distinguished name, is let in.
 */
export interface Authz {
  readonly qomType: 'authz-simple' | 'authz-list';
  isAllowed(identity: string): boolean;
}
