import { qapiTypeTable } from '../generated/qapi-type-table.gen.js';
import type { ObjectOptions } from '../generated/qapi-types.gen.js';
import { InputValidator, QapiInputError } from '../qapi-runtime/index.js';
import { ID_ERROR, isWellFormedId, parseOnOff, parseQemuOpts, QemuOptsError, splitQemuOpts } from '../options/qemu-opts.js';
import type { JsonObject, JsonValue } from '../qobject/json-value.js';

/** The boolean members of ObjectOptions' branches, which key=value text spells on/off (QEMU's keyval visitor reads them so). */
const BOOLEAN_MEMBERS = new Set(['verify-peer', 'sanity-check', 'loaded']);

let validator: InputValidator | undefined;

/**
 * Reads `-object` in either of QEMU's spellings (object_option_parse):
 * JSON when it starts with `{` (`{"qom-type": "authz-list", "id": "a0",
 * "rules": [...]}`), else key=value with the type as the implied first key
 * (`tls-creds-x509,id=tls0,dir=DIR,endpoint=server`) and dotted keys for
 * nested members (`rules.0.match=CN=*`). Errors are QemuOptsError with
 * QEMU's texts.
 */
export function parseObjectOption(text: string): ObjectOptions {
  let value: JsonObject;
  if (text.trimStart().startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error: unknown) {
      throw new QemuOptsError(`JSON parse error, ${(error as Error).message}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new QemuOptsError('JSON object expected');
    value = parsed as JsonObject;
  } else {
    value = keyval(text);
  }
  return validateObjectOptions(value);
}

/** Checks object-add's arguments (from -object or a config file) as QMP checks them, then the id as QEMU does while reading its command line. */
export function validateObjectOptions(value: JsonObject): ObjectOptions {
  let options: ObjectOptions;
  try {
    validator ??= new InputValidator(qapiTypeTable);
    options = validator.validateArguments('ObjectOptions', value) as ObjectOptions;
  } catch (error: unknown) {
    if (error instanceof QapiInputError) throw new QemuOptsError(error.message);
    throw error;
  }
  if (!isWellFormedId(options.id)) throw new QemuOptsError(ID_ERROR);
  return options;
}

/** QEMU's keyval_parse with "qom-type" implied, then booleans read as its keyval visitor reads them. */
function keyval(text: string): JsonObject {
  const root: JsonObject = Object.create(null) as JsonObject;
  parseQemuOpts(splitQemuOpts(text)).forEach((opt, index) => {
    // An empty first parameter is no type: keyval_parse_one desugars a non-empty one only.
    const implied = index === 0 && opt.value === undefined && opt.key !== '';
    const key = implied ? 'qom-type' : opt.key;
    if (!implied && !isKeyvalKey(key)) throw new QemuOptsError(`Invalid parameter '${key}'`);
    if (opt.value === undefined && !implied) throw new QemuOptsError(`Expected '=' after parameter '${opt.key}'`);
    const value: JsonValue = !implied && BOOLEAN_MEMBERS.has(key) ? parseOnOff(key, opt.value!) : implied ? opt.key : opt.value!;
    const path = key.split('.');
    let node = root;
    for (const part of path.slice(0, -1)) {
      const next = node[part];
      if (next === undefined) node = node[part] = Object.create(null) as JsonObject;
      else if (typeof next === 'object' && next !== null && !Array.isArray(next)) node = next as JsonObject;
      else throw new QemuOptsError(`Parameter '${key}' conflicts with '${path.slice(0, path.indexOf(part) + 1).join('.')}'`);
    }
    node[path.at(-1)!] = value;
  });
  return listsFromNumberedKeys(root) as JsonObject;
}

/** keyval_parse_one's key: QAPI names (parse_qapi_name) joined by dots, list indexes after the first. */
function isKeyvalKey(key: string): boolean {
  return key.split('.').every((part, i) => /^[A-Za-z][A-Za-z0-9_-]*$/.test(part) || (i > 0 && /^[0-9]+$/.test(part)));
}

/** keyval's lists: an object whose keys are 0, 1, ... is the list of its values in that order. */
function listsFromNumberedKeys(value: JsonValue): JsonValue {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const object = value as JsonObject;
  const keys = Object.keys(object);
  for (const key of keys) object[key] = listsFromNumberedKeys(object[key]!);
  if (keys.length > 0 && keys.every((key, i) => key === String(i))) return keys.map((key) => object[key]!);
  return object;
}
