/** The runtime that generated code imports; nothing else of chardevd. */
export type { CallOptions, CommandSpec, EventSink } from './command-spec.js';
export { InputValidator, QapiInputError } from './input-visitor.js';
export { firstUnvisitedMember } from './ghash-order.js';
export type { TypeTable } from './type-table.js';
