import type { AuthZSimpleProperties } from '../generated/qapi-types.gen.js';
import type { Authz } from './authz.js';

/** authz/simple.c: exactly one identity is allowed. */
export class AuthzSimple implements Authz {
  readonly qomType = 'authz-simple';

  constructor(private readonly properties: AuthZSimpleProperties) {}

  isAllowed(identity: string): boolean {
    return identity === this.properties.identity;
  }
}
