/**
 * Finding what one .proto file declared inside a combined protobufjs Root
 * (objects parsed by {@link parseProtoSet} carry their file's name).
 *
 * @module
 */
import protobuf from "./protobuf.ts";

/**
 * Top-level messages, enums, services and extension fields declared in
 * `fileName`, in declaration order, across package namespaces.
 */
export function declaredIn(root: protobuf.Root, fileName: string): protobuf.ReflectionObject[] {
  const found: protobuf.ReflectionObject[] = [];
  const visit = (ns: protobuf.Namespace) => {
    for (const object of ns.nestedArray) {
      if (isDeclaration(object)) {
        if (object.filename === fileName) found.push(object);
      } else if (object instanceof protobuf.Namespace) {
        visit(object);
      }
    }
  };
  visit(root);
  return found;
}

/** The services declared in `fileName`, in declaration order. */
export function servicesIn(root: protobuf.Root, fileName: string): protobuf.Service[] {
  return declaredIn(root, fileName).filter((o): o is protobuf.Service =>
    o instanceof protobuf.Service
  );
}

/** True for a field declared in an `extend` block. */
export function isExtension(object: protobuf.ReflectionObject): object is protobuf.Field {
  return object instanceof protobuf.Field && object.extend !== undefined;
}

function isDeclaration(object: protobuf.ReflectionObject): boolean {
  return object instanceof protobuf.Type || object instanceof protobuf.Enum ||
    object instanceof protobuf.Service || isExtension(object);
}
