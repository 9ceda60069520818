/**
 * An index over the embedded FileDescriptorProtos: which file declares which
 * symbol and extension, and which files each file imports. Built once, on the
 * first reflection request.
 *
 * @module
 */
import { type EmbeddedFile, embeddedFiles, messageType } from "../../proto/mod.ts";

/** Looks files up by name, symbol or extension. */
export interface DescriptorIndex {
  /** Encoded descriptor and imports of a file, by import name. */
  file(name: string): IndexedFile | undefined;
  /** The file declaring a fully qualified symbol (no leading dot). */
  fileOfSymbol(symbol: string): IndexedFile | undefined;
  /** The file declaring extension `number` of message `extendee` (no leading dot). */
  fileOfExtension(extendee: string, number: number): IndexedFile | undefined;
  /** Extension numbers declared for `extendee`, or undefined when no such message exists. */
  extensionNumbers(extendee: string): number[] | undefined;
}

/** One file of the index. */
export interface IndexedFile {
  /** Import name. */
  name: string;
  /** Encoded FileDescriptorProto. */
  descriptor: Uint8Array;
  /** Names of the files it imports, in order. */
  dependencies: string[];
}

interface Named {
  name?: string;
}
interface FieldProto extends Named {
  number?: number;
  extendee?: string;
}
interface EnumProto extends Named {
  value?: Named[];
}
interface MessageProto extends Named {
  field?: FieldProto[];
  nested_type?: MessageProto[];
  enum_type?: EnumProto[];
  extension?: FieldProto[];
  oneof_decl?: Named[];
}
interface ServiceProto extends Named {
  method?: Named[];
}
interface FileProto extends Named {
  package?: string;
  dependency?: string[];
  message_type?: MessageProto[];
  enum_type?: EnumProto[];
  service?: ServiceProto[];
  extension?: FieldProto[];
}

/** Builds an index over `files` (default: every embedded file). */
export function buildDescriptorIndex(
  files: readonly EmbeddedFile[] = embeddedFiles(),
): DescriptorIndex {
  const fileType = messageType("google.protobuf.FileDescriptorProto");
  const byName = new Map<string, IndexedFile>();
  const bySymbol = new Map<string, IndexedFile>();
  const byExtension = new Map<string, IndexedFile>();
  const numbersByExtendee = new Map<string, number[]>();
  const messages = new Set<string>();

  for (const embedded of files) {
    const proto = fileType.decode(embedded.descriptor) as unknown as FileProto;
    const file: IndexedFile = {
      name: embedded.name,
      descriptor: embedded.descriptor,
      dependencies: [...(proto.dependency ?? [])],
    };
    byName.set(file.name, file);
    const add = (symbol: string) => bySymbol.set(symbol, file);
    const addExtension = (extension: FieldProto) => {
      const extendee = (extension.extendee ?? "").replace(/^\./, "");
      byExtension.set(`${extendee}#${extension.number}`, file);
      const numbers = numbersByExtendee.get(extendee) ?? [];
      numbers.push(extension.number ?? 0);
      numbersByExtendee.set(extendee, numbers);
    };
    const scope = proto.package ? `${proto.package}.` : "";
    for (const message of proto.message_type ?? []) {
      indexMessage(message, scope, add, addExtension, messages);
    }
    for (const enumType of proto.enum_type ?? []) indexEnum(enumType, scope, add);
    for (const service of proto.service ?? []) {
      add(scope + service.name);
      for (const method of service.method ?? []) add(`${scope}${service.name}.${method.name}`);
    }
    for (const extension of proto.extension ?? []) {
      add(scope + extension.name);
      addExtension(extension);
    }
  }

  return {
    file: (name) => byName.get(name),
    fileOfSymbol: (symbol) => bySymbol.get(symbol.replace(/^\./, "")),
    fileOfExtension: (extendee, number) =>
      byExtension.get(`${extendee.replace(/^\./, "")}#${number}`),
    extensionNumbers: (extendee) => {
      const name = extendee.replace(/^\./, "");
      if (!messages.has(name)) return undefined;
      return [...(numbersByExtendee.get(name) ?? [])].sort((a, b) => a - b);
    },
  };
}

function indexMessage(
  message: MessageProto,
  scope: string,
  add: (symbol: string) => void,
  addExtension: (extension: FieldProto) => void,
  messages: Set<string>,
): void {
  const fullName = scope + message.name;
  add(fullName);
  messages.add(fullName);
  const inner = `${fullName}.`;
  for (const field of message.field ?? []) add(inner + field.name);
  for (const oneof of message.oneof_decl ?? []) add(inner + oneof.name);
  for (const nested of message.nested_type ?? []) {
    indexMessage(nested, inner, add, addExtension, messages);
  }
  for (const enumType of message.enum_type ?? []) indexEnum(enumType, inner, add);
  for (const extension of message.extension ?? []) {
    add(inner + extension.name);
    addExtension(extension);
  }
}

/** Enum values are scoped like their enum (C++ rules), so `gitaly.ObjectType.COMMIT` is `gitaly.COMMIT`. */
function indexEnum(enumType: EnumProto, scope: string, add: (symbol: string) => void): void {
  add(scope + enumType.name);
  for (const value of enumType.value ?? []) add(scope + value.name);
}
