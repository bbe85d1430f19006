import { type Defines, evalIfCond } from './conditions.js';
import { docText } from './doc-text.js';
import type { QapiEvent, QapiSchema } from './model.js';
import { pascalCase, tsTypeRef } from './names.js';
import { GeneratedFile } from './printer.js';
import { importTypeRef } from './gen-commands.js';

export function enabledEvents(schema: QapiSchema, defines: Defines): QapiEvent[] {
  return schema.entities.filter((e): e is QapiEvent => e.kind === 'event' && evalIfCond(e.ifcond, defines));
}

/**
 * Events (QEMU's events.py): the map from event name to its data, and one
 * typed sender per event, the counterpart of qapi_event_send_<name>().
 */
export function generateEvents(schema: QapiSchema, defines: Defines, source: string): GeneratedFile {
  const file = new GeneratedFile('qapi-events.gen.ts', source);
  file.import('../qapi-runtime/index.js', 'EventSink');
  const events = enabledEvents(schema, defines);

  file.print('/** Every event and the type of its `data` member (undefined: the event has none). */', 'export interface QmpEvents {');
  for (const event of events) {
    importTypeRef(file, event.argType);
    file.jsDoc(docText(event.doc, event.features), '  ');
    file.print(`  ${event.name}: ${event.argType === undefined ? 'undefined' : tsTypeRef(event.argType)};`);
  }
  file.print('}', '');

  for (const event of events) {
    const data = event.argType === undefined ? '' : `, data: ${tsTypeRef(event.argType)}`;
    file.print(`/** Broadcasts ${event.name}. */`);
    file.print(`export function send${pascalCase(event.name)}Event(sink: EventSink<QmpEvents>${data}): void {`);
    file.print(`  sink.emit('${event.name}', ${event.argType === undefined ? 'undefined' : 'data'});`, '}', '');
  }
  return file;
}
